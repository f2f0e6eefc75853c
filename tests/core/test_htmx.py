"""Full page or fragment: one rule for every view, and a Vary header on each answer."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from core.htmx import VARY_HEADERS, wants_fragment
from tests.factories import MicroAppFactory

HTMX = {"HX-Request": "true"}


def request_with(headers: dict | None = None):
    request = RequestFactory().get("/", headers=headers or {})
    return HtmxMiddleware(lambda r: r)(request)


@pytest.mark.parametrize(
    ("headers", "target", "expected"),
    [
        ({}, None, False),  # a normal navigation
        (HTMX, None, True),
        ({**HTMX, "HX-Target": "results"}, "results", True),
        ({**HTMX, "HX-Target": "main"}, "results", False),  # aimed at another element
        (HTMX, "results", False),  # aimed at no element
        ({**HTMX, "HX-Target": "results", "HX-History-Restore-Request": "true"}, "results", False),
        ({**HTMX, "HX-Target": "results", "HX-Boosted": "true"}, "results", False),
        ({**HTMX, "HX-Boosted": "true"}, None, False),
    ],
    ids=[
        "plain",
        "htmx",
        "target",
        "other-target",
        "no-target",
        "history-restore",
        "boosted",
        "boosted-any",
    ],
)
def test_wants_fragment(headers, target, expected):
    assert wants_fragment(request_with(headers), target=target) is expected


def test_a_request_without_the_htmx_middleware_gets_the_page():
    assert wants_fragment(RequestFactory().get("/", headers=HTMX)) is False


def vary(response) -> set[str]:
    return {h.strip().lower() for h in response.get("Vary", "").split(",")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "target"),
    [("/apps/", "results"), ("/reviews/", None), ("/scorecards/", "scorecard-results")],
)
@pytest.mark.parametrize("fragment", [False, True], ids=["page", "fragment"])
def test_pages_that_answer_htmx_with_a_fragment_vary_on_its_headers(
    client, pat, url, target, fragment
):
    MicroAppFactory(team__name="Support Tools")
    client.force_login(pat)
    headers = {**HTMX, **({"HX-Target": target} if target else {})} if fragment else {}
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert ("<html" not in response.content.decode()) is fragment
    assert {h.lower() for h in VARY_HEADERS} <= vary(response)


@pytest.mark.django_db
def test_a_history_restore_of_the_catalog_gets_the_page_without_out_of_band_swaps(client, pat):
    client.force_login(pat)
    headers = {**HTMX, "HX-Target": "results", "HX-History-Restore-Request": "true"}
    body = client.get("/apps/", headers=headers).content.decode()
    assert "<html" in body and "hx-swap-oob" not in body
    fragment = client.get("/apps/", headers={**HTMX, "HX-Target": "results"}).content.decode()
    assert "<html" not in fragment and 'id="id_sort" value="" hx-swap-oob="true"' in fragment
