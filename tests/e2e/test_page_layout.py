"""The platform team's and finance's pages at a laptop's and a phone's width: nothing
spills sideways, and the browser reports no console error and no htmx error."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog import services as catalog_services
from catalog.models import MicroApp, Review
from scorecards import periods
from scorecards import services as scorecard_services
from tests.catalog.review_support import pii_app
from tests.factories import MicroAppFactory
from tests.scorecards.factories import add_usage

pytestmark = pytest.mark.e2e

WIDTHS = [1366, 390]
# Every error event htmx dispatches; each also bubbles to the document.
HTMX_ERRORS = [
    "htmx:syntax:error",
    "htmx:targetError",
    "htmx:responseError",
    "htmx:sendError",
    "htmx:swapError",
    "htmx:onLoadError",
    "htmx:oobErrorNoTarget",
    "htmx:historyCacheMissLoadError",
]
LISTEN = (
    "window.__htmxErrors = [];"
    f"for (const name of {HTMX_ERRORS!r}) "
    "document.addEventListener(name, () => window.__htmxErrors.push(name));"
)


@pytest.fixture
def fleet(cast):
    """A review waiting, scored apps of a past quarter, and usage to charge back."""
    teams, users, regions = cast["teams"], cast["users"], cast["regions"]
    router = pii_app(
        team=teams["support-tools"], owner=users["alice"], regions=regions, name="Ticket Router"
    )
    catalog_services.app_submit(app=router, actor=users["alice"])
    quarter = periods.previous_quarter()
    helpers = [router.pk]
    for i in range(6):
        app = MicroAppFactory(
            name=f"Field Helper {i}",
            team=teams["field-ops"] if i % 2 else teams["support-tools"],
            owner=users["carol"] if i % 2 else users["alice"],
            state="active",
            runbook_url="",
        )
        add_usage(app, regions["eu-central"], quarter.start, 20, requests=1000 * (i + 1))
        helpers.append(app.pk)
    # All registered when the past quarter began: a quarter only scores apps it saw.
    MicroApp.objects.filter(pk__in=helpers).update(created_at=quarter.start_dt)
    scorecard_services.scorecards_compute(quarter=quarter)
    return {"review": Review.objects.get(app=router), "quarter": quarter}


def open_page(browser, sign_in, user: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(LISTEN)
    sign_in(page, user)
    return context, page, errors


def assert_clean(page, errors: list[str], what: str) -> None:
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{what} is {overflow}px wider than the window"
    assert page.evaluate("window.__htmxErrors") == [], what
    assert errors == [], what


@pytest.mark.parametrize("width", WIDTHS)
def test_the_platform_teams_pages_fit_and_raise_no_errors(
    browser, sign_in, live_server, fleet, width
):
    context, page, errors = open_page(browser, sign_in, "pat", width)
    try:
        paths = [
            "/reviews/",
            "/reviews/?open=false",
            f"/reviews/{fleet['review'].pk}/",
            "/policies/",
            f"/scorecards/?quarter={fleet['quarter'].label}",
            "/scorecards/?grade=Z",
        ]
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            assert_clean(page, errors, f"{path} at {width}px")

        # The filters answer through htmx: a team narrows the table in place.
        page.goto(f"{live_server.url}/scorecards/?quarter={fleet['quarter'].label}")
        results = page.locator("#scorecard-results")
        expect(results).to_contain_text("7 scorecards")  # and the app in review
        page.get_by_label("Team", exact=True).select_option("field-ops")
        expect(results).to_contain_text("3 scorecards")
        expect(page).to_have_url(re.compile(r"team=field-ops"))
        assert_clean(page, errors, f"/scorecards/ filtered at {width}px")
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_finances_chargeback_fits_and_raises_no_errors(browser, sign_in, live_server, fleet, width):
    context, page, errors = open_page(browser, sign_in, "fin", width)
    try:
        quarter = fleet["quarter"].label
        for query in (
            "",
            f"?period={quarter}&group_by=team&then_by=region",
            f"?date_from={(timezone.localdate() - timedelta(days=200)).isoformat()}&group_by=app",
        ):
            page.goto(f"{live_server.url}/chargeback/{query}")
            assert_clean(page, errors, f"/chargeback/{query} at {width}px")
        expect(page.locator("#chargeback-table")).to_contain_text("Field Helper 1")
    finally:
        context.close()


def test_the_sunset_answer_is_refused_beside_its_field_in_the_browser(
    browser, sign_in, live_server, cast
):
    from lifecycle.choices import SunsetReason
    from lifecycle.models import SunsetCase

    app = MicroAppFactory(
        name="Old Helper", team=cast["teams"]["support-tools"], owner=cast["users"]["alice"]
    )
    app.state = "sunsetting"
    app.save()
    SunsetCase.objects.create(
        app=app,
        reason=SunsetReason.LOW_USAGE,
        grace_ends_at=timezone.now() + timedelta(days=14),
        figures={"requests": 3, "threshold": 100, "days": 90},
    )
    context, page, errors = open_page(browser, sign_in, "alice", 390)
    try:
        page.goto(f"{live_server.url}{app.get_absolute_url()}")
        page.get_by_role("radio", name=re.compile("^Contest")).check()
        page.get_by_role("textbox", name=re.compile("^Justification")).fill("Still used.")
        page.get_by_role("button", name="Send answer").click()
        field = page.get_by_role("textbox", name=re.compile("^Justification"))
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_value("Still used.")
        expect(page.get_by_text("Explain in at least 20 characters.")).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        # The 400 of the refused answer is the only console message; no script error.
        assert all("400" in message for message in errors), errors
    finally:
        context.close()
