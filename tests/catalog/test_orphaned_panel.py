"""The platform team's dashboard panel of apps waiting for an owner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.views.transfer import ORPHANS_ON_DASHBOARD, orphaned_panel_context
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db


def _orphans(count: int, team, *, start: int = 0) -> None:
    gone = UserFactory(username="gone", is_active=False)
    now = timezone.now()
    for index in range(start, start + count):
        MicroAppFactory(
            owner=gone,
            team=team,
            slug=f"orphan-{index}",
            name=f"Orphan {index}",
            orphaned_at=now - timedelta(days=index),
        )


def _context(user):
    request = RequestFactory().get("/")
    request.user = user
    return orphaned_panel_context(request)


def test_only_the_platform_team_sees_the_panel(alice, pat, support_tools):
    _orphans(1, support_tools)
    assert _context(alice) is None
    assert _context(pat)["count"] == 1


def test_the_panel_lists_the_longest_waiting_with_an_assign_owner_link(client, pat, support_tools):
    _orphans(3, support_tools)
    MicroAppFactory(team=support_tools, state="retired", orphaned_at=timezone.now())
    client.force_login(pat)
    html = client.get("/").content.decode()
    assert "Apps waiting for an owner" in html
    assert "3 live apps lost their owner" in html
    assert html.index("Orphan 2<") < html.index("Orphan 1<") < html.index("Orphan 0<")
    assert 'href="/apps/transfer/?apps=orphan-2"' in html
    assert "Assign owner<span" in html


def test_an_empty_panel_says_so(client, pat, support_tools):
    client.force_login(pat)
    assert "Every live app has an owner." in client.get("/").content.decode()


def test_the_panel_and_the_dashboard_stay_query_flat(
    client, pat, support_tools, django_assert_max_num_queries
):
    _orphans(ORPHANS_ON_DASHBOARD + 1, support_tools)
    _context(pat)  # the user's groups, read once per request, are read now
    # The longest waiting, and how many there are.
    with django_assert_max_num_queries(2):
        _context(pat)
    client.force_login(pat)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    _orphans(ORPHANS_ON_DASHBOARD * 3, support_tools, start=ORPHANS_ON_DASHBOARD + 1)
    with django_assert_max_num_queries(len(few)):
        html = client.get("/").content.decode()
    assert f"{ORPHANS_ON_DASHBOARD * 4 + 1} live apps lost their owner" in html
