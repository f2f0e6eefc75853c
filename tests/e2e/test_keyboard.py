"""Keyboard and phone behaviour, driven as a keyboard user and a phone user would.

Every wait is on an event or on an expect() condition (which retries until its timeout),
never on a fixed sleep, so a busy machine only makes these slower, not flaky.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.choices import AppState
from catalog.models import MicroApp, Review
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.e2e

OPENAPI = b'openapi: 3.1.0\ninfo: {title: Visit Logger, version: "1"}\npaths: {}\n'


def active_element_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


@pytest.fixture
def router(cast):
    return MicroAppFactory(
        name="Ticket Router",
        slug="ticket-router",
        team=cast["teams"]["field-ops"],
        owner=cast["users"]["carol"],
        state=AppState.ACTIVE,
    )


def test_enter_in_the_depends_on_search_searches_and_keeps_the_attached_file(
    page, live_server, cast, sign_in, router
):
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/apps/new/")
    page.get_by_label("Name").fill("Visit Logger")
    page.get_by_label("Upload a file").set_input_files(
        files=[{"name": "openapi.yaml", "mimeType": "application/yaml", "buffer": OPENAPI}]
    )
    search = page.get_by_label("Search apps to add")
    search.fill("")
    search.press_sequentially("route")
    with page.expect_response(re.compile(r"/apps/picker/\?")):
        search.press("Enter")
    results = page.locator("#id_depends_on_results")
    expect(results.get_by_label(re.compile("Ticket Router"))).to_be_visible()
    # Still the same unsent form: no error summary, the file still attached, no app made.
    expect(page.locator("#error-summary")).to_have_count(0)
    assert page.get_by_label("Upload a file").evaluate("input => input.files.length") == 1
    assert active_element_id(page) == "id_depends_on_search"
    assert not MicroApp.objects.filter(slug="visit-logger").exists()

    # Space ticks the result; it joins the chosen list and keeps the keyboard focus.
    box = results.get_by_label(re.compile("Ticket Router"))
    box.focus()
    page.keyboard.press("Space")
    chosen = page.locator("#id_depends_on").get_by_label(re.compile("Ticket Router"))
    expect(chosen).to_be_checked()
    expect(chosen).to_be_focused()


def test_the_error_summary_takes_focus_and_its_links_lead_to_the_fields(
    page, live_server, cast, sign_in
):
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/apps/new/")
    page.get_by_role("button", name="Register app").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    summary.get_by_role("link", name="Name").press("Enter")
    expect(page.get_by_label("Name")).to_be_focused()
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")


def test_sorting_and_paging_the_catalog_by_keyboard_keeps_focus(
    page, live_server, cast, sign_in, router
):
    MicroAppFactory.create_batch(
        30, team=cast["teams"]["support-tools"], owner=cast["users"]["alice"], state="active"
    )
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/apps/")
    results = page.locator("#results")
    sort = results.get_by_role("link", name="State")
    sort.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=state"))
    expect(results.get_by_role("link", name="State")).to_be_focused()

    page.get_by_label("Team").focus()
    page.get_by_label("Team").select_option("support-tools")
    expect(page).to_have_url(re.compile(r"team=support-tools"))
    expect(page.get_by_label("Team")).to_be_focused()

    # On the last page "Next" is no longer a link: focus moves to the results, not <body>.
    results.get_by_role("link", name="Next →").press("Enter")
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(results).to_be_focused()


def test_a_refused_review_decision_focuses_the_field_it_is_about(page, live_server, cast, sign_in):
    app = MicroAppFactory(
        name="Ticket Router",
        slug="ticket-router",
        team=cast["teams"]["support-tools"],
        owner=cast["users"]["alice"],
        state=AppState.IN_REVIEW,
        handles_pii=True,
        data_residency="EU",
        regions=[cast["regions"]["eu-central"]],
    )
    review = Review.objects.create(
        app=app, requested_by=cast["users"]["alice"], due_at=timezone.now() + timedelta(hours=48)
    )
    page.set_viewport_size({"width": 390, "height": 700})
    sign_in(page, "pat")
    page.goto(f"{live_server.url}/reviews/{review.pk}/")
    page.get_by_label("Changes requested").check()
    page.get_by_role("button", name="Record decision").click()
    comment = page.get_by_label(re.compile("^Comment"))
    expect(comment).to_be_focused()
    expect(comment).to_be_in_viewport()
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(comment).to_have_accessible_description(re.compile("Tell the owner what to change"))


def test_the_phone_menu_reveals_every_entry_and_closes_with_escape(
    page, live_server, cast, sign_in
):
    sign_in(page, "pat")
    nav = page.get_by_role("navigation", name="Primary")
    entries = nav.get_by_role("link").count()  # the desk sidebar shows them all
    assert entries >= 10
    page.set_viewport_size({"width": 390, "height": 800})
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    # "Register an app" stays one tap away, named for screen readers.
    expect(page.get_by_role("link", name="Register an app").first).to_be_visible()

    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    links = nav.get_by_role("link")
    expect(links).to_have_count(entries)
    for index in range(entries):
        expect(links.nth(index)).to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(links.first).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(nav).to_be_hidden()

    menu.click()
    nav.get_by_role("link", name="Operations").click()
    expect(page.get_by_role("heading", name="Operations", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
