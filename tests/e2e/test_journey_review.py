"""Journey: alice submits a PII app, pat requests changes, alice fixes and resubmits, pat
approves, the app is live — all through the browser, as the two people would."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Contract, MicroApp, Review
from tests.e2e.conftest import HTMX_TRACKER, settled
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def ticket_router(cast):
    """Alice's draft: PII kept in the EU sovereign region, SLA, a valid contract."""
    app = MicroAppFactory(
        name="Ticket Router",
        slug="ticket-router",
        team=cast["teams"]["support-tools"],
        owner=cast["users"]["alice"],
        environment="staging",
        handles_pii=True,
        data_residency="EU",
        regions=[cast["regions"]["eu-sovereign"]],
        last_seen_at=timezone.now(),
    )
    Contract.objects.create(
        app=app,
        kind="openapi",
        version="1.0.0",
        sha256="0" * 64,
        is_valid=True,
        document={
            "openapi": "3.1.0",
            "info": {"title": "Ticket Router", "version": "1"},
            "paths": {},
        },
    )
    return app


def test_alice_submits_pat_requests_changes_alice_fixes_pat_approves(
    browser, page, sign_in, live_server, ticket_router
):
    app_url = f"{live_server.url}/apps/ticket-router/"

    # 1. Alice sees her checklist all ticked and submits the app for review.
    sign_in(page, "alice")
    page.goto(app_url)
    settled(page)  # the Submit button posts through htmx
    checklist = page.locator("#gate-panel")
    expect(checklist.locator(".checklist__item--missing")).to_have_count(0)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("is waiting for a platform review")).to_be_visible()
    expect(checklist).to_contain_text("Waiting for a platform review")

    # 2. Pat finds it in the review queue and requests changes.
    pat_context = browser.new_context(viewport={"width": 1280, "height": 900})
    pat_context.add_init_script(HTMX_TRACKER)
    pat = pat_context.new_page()
    pat.set_default_timeout(10_000)
    try:
        sign_in(pat, "pat")
        pat.get_by_role("link", name="Reviews").click()
        expect(pat.get_by_role("heading", name="Reviews")).to_be_visible()
        pat.get_by_role("link", name="Ticket Router").click()
        expect(pat.get_by_role("heading", name="Review of Ticket Router")).to_be_visible()
        expect(pat.locator("body")).to_contain_text("eu-sovereign")
        pat.get_by_label("Changes requested").check()
        pat.get_by_label(re.compile("^Comment")).fill("Add the on-call runbook link, please.")
        pat.get_by_role("button", name="Record decision").click()
        expect(pat.get_by_text("Review of Ticket Router: changes requested.")).to_be_visible()
        assert MicroApp.objects.get(slug="ticket-router").state == "draft"

        # 3. Alice reads the comment on her app page, fixes the app and resubmits.
        page.goto(app_url)
        settled(page)
        expect(checklist).to_contain_text("Changes requested by pat")
        expect(checklist).to_contain_text("Add the on-call runbook link, please.")
        page.get_by_role("link", name="Edit app").click()
        page.wait_for_url(f"{app_url}edit/")
        settled(page)
        page.get_by_label("Runbook URL").fill("https://runbooks.example.com/ticket-router")
        page.get_by_role("button", name="Save changes").click()
        expect(page).to_have_url(app_url)
        settled(page)
        page.get_by_role("button", name="Submit for review").click()
        expect(page.get_by_text("is waiting for a platform review")).to_be_visible()

        # 4. Pat approves the second review; the app is live.
        pat.goto(f"{live_server.url}/reviews/")
        pat.get_by_role("link", name="Ticket Router").click()
        expect(pat.locator("body")).to_contain_text("runbooks.example.com/ticket-router")
        pat.get_by_label("Approved").check()
        pat.get_by_role("button", name="Record decision").click()
        expect(pat.get_by_text("Review of Ticket Router: approved.")).to_be_visible()
    finally:
        pat_context.close()

    page.goto(app_url)
    expect(page.locator(".page-header .badge--active")).to_be_visible()
    app = MicroApp.objects.get(slug="ticket-router")
    assert app.state == "active" and app.expires_at is not None
    assert list(Review.objects.filter(app=app).values_list("decision", flat=True)) == [
        "changes_requested",
        "approved",
    ]
    actions = list(app.audit_events.order_by("at", "pk").values_list("action", flat=True))
    assert actions == ["submitted", "changes_requested", "updated", "submitted", "activated"]
