"""Journeys through the catalog UI in a real Chromium, as a new user would make them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from catalog.choices import AppState
from catalog.models import AuditEvent, MicroApp
from tests.e2e.conftest import settled
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.e2e


def test_alice_registers_an_app_fixing_a_validation_error_and_finds_it(
    page, live_server, cast, sign_in
):
    MicroAppFactory(
        name="Ticket Router",
        slug="ticket-router",
        team=cast["teams"]["field-ops"],
        owner=cast["users"]["carol"],
        state=AppState.ACTIVE,
    )
    sign_in(page, "alice")
    page.get_by_role("link", name="Register an app").first.click()
    page.wait_for_url("**/apps/new/")
    settled(page)  # the slug suggestion and inline checks need app.js and htmx wired up
    expect(page.get_by_role("heading", name="Register an app")).to_be_visible()

    # Basics: the slug is suggested from the name; a taken slug is flagged on leaving it.
    page.get_by_label("Name").fill("Visit Logger")
    expect(page.get_by_label("Slug")).to_have_value("visit-logger")
    page.get_by_label("Slug").fill("ticket-router")
    page.get_by_label("Description").click()  # leave the field
    settled(page)
    slug_error = page.locator("#id_slug_errors")
    expect(slug_error).to_contain_text("Another app already uses this slug")
    expect(page.get_by_label("Slug")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Slug").fill("visit-logger")
    page.get_by_label("Description").click()
    settled(page)
    expect(slug_error).to_be_empty()

    page.get_by_label("Description").fill("Logs field visits from the van.")
    page.get_by_label("Kind").select_option("widget")

    # Data & regions: PII must stay in its residency; us-east is flagged inline.
    page.get_by_label("Handles personal data (PII)").check()
    page.get_by_label("Data residency").select_option("EU")
    page.get_by_label(re.compile(r"US East .*us-east")).check()
    settled(page)
    regions_error = page.locator("#id_regions_errors")
    expect(regions_error).to_contain_text("Personal data must stay in European Union: us-east")
    page.get_by_label(re.compile(r"US East .*us-east")).uncheck()
    page.get_by_label(re.compile(r"EU Central .*eu-central")).check()
    settled(page)
    expect(regions_error).to_be_empty()

    # Depends on: search, tick a result; it stays chosen when the next search replaces them.
    picker = page.get_by_label("Search apps to add")
    picker.fill("router")
    settled(page)
    page.locator("#id_depends_on_results").get_by_label(re.compile("Ticket Router")).check()
    picker.fill("nothing like it")
    settled(page)
    expect(page.locator("#id_depends_on_results")).to_contain_text("No app you can see matches")
    expect(page.locator("#id_depends_on").get_by_label(re.compile("Ticket Router"))).to_be_checked()

    page.get_by_role("button", name="Register app").click()
    expect(page.get_by_role("heading", name="Visit Logger", level=1)).to_be_visible()
    expect(page.get_by_text("Visit Logger is registered as a draft.")).to_be_visible()
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    app = MicroApp.objects.get(slug="visit-logger")
    assert app.state == AppState.DRAFT and app.owner.username == "alice"
    assert list(app.regions.values_list("code", flat=True)) == ["eu-central"]
    assert list(app.depends_on.values_list("slug", flat=True)) == ["ticket-router"]

    # The catalog's live search finds it without pressing anything.
    page.get_by_role("navigation", name="Primary").get_by_role("link", name="Catalog").click()
    page.wait_for_url("**/apps/")
    settled(page)  # typed before htmx is wired up, the search would never be sent
    page.get_by_label("Search apps").fill("visit")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Visit Logger")).to_be_visible()
    expect(results.get_by_role("link", name="Ticket Router")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/apps/\?q=visit$"))


def test_alice_edits_her_app_and_carol_cannot(page, live_server, cast, sign_in, browser):
    app = MicroAppFactory(
        name="Refund Helper",
        slug="refund-helper",
        team=cast["teams"]["support-tools"],
        owner=cast["users"]["alice"],
        state=AppState.ACTIVE,
    )
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/apps/refund-helper/")
    page.get_by_role("link", name="Edit app").click()
    page.wait_for_url("**/apps/refund-helper/edit/")
    settled(page)
    expect(page.get_by_role("heading", name="Edit Refund Helper")).to_be_visible()
    expect(page.get_by_label("Slug")).to_be_disabled()
    page.get_by_label("Description").fill("Issues refunds under 50 EUR without a ticket.")
    page.get_by_label("p95 latency target (ms)").fill("450")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved your changes to Refund Helper.")).to_be_visible()
    expect(page.locator(".lede")).to_have_text("Issues refunds under 50 EUR without a ticket.")
    expect(page.get_by_text("450 ms")).to_be_visible()
    event = AuditEvent.objects.get(app=app, action="updated")
    assert event.actor.username == "alice" and event.changes["sla_p95_ms"] == [300, 450]

    # Carol is in another team: no edit button, and the edit URL answers 403.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    sign_in(page, "carol")
    page.goto(f"{live_server.url}/apps/refund-helper/")
    expect(page.get_by_role("heading", name="Refund Helper", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Edit app")).to_have_count(0)
    response = page.goto(f"{live_server.url}/apps/refund-helper/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You can't do that")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Primary").get_by_role("link", name="Catalog")
    ).to_be_visible()  # same layout


def test_filter_by_team_swaps_the_table_in_place_and_the_url_reopens_it(
    page, live_server, cast, sign_in, browser
):
    teams, users = cast["teams"], cast["users"]
    MicroAppFactory(
        name="Ticket Router",
        slug="ticket-router",
        team=teams["support-tools"],
        owner=users["alice"],
        state=AppState.ACTIVE,
    )
    MicroAppFactory(
        name="Route Optimizer",
        slug="route-optimizer",
        team=teams["field-ops"],
        owner=users["carol"],
        state=AppState.ACTIVE,
    )
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/apps/")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Route Optimizer")).to_be_visible()
    expect(results.get_by_role("link", name="Ticket Router")).to_be_visible()

    settled(page)
    page.evaluate("window.__noReload = 'still here'")
    page.get_by_label("Team").select_option("field-ops")
    expect(results.get_by_role("link", name="Ticket Router")).to_have_count(0)
    expect(results.get_by_role("link", name="Route Optimizer")).to_be_visible()
    assert page.evaluate("window.__noReload") == "still here"  # swapped, not reloaded
    expect(page).to_have_url(re.compile(r"/apps/\?team=field-ops$"))
    shared = page.url

    # Sorting keeps the filter and stays in place too.
    results.get_by_role("link", name="State").click()
    expect(page).to_have_url(re.compile(r"/apps/\?team=field-ops&sort=state$"))
    assert page.evaluate("window.__noReload") == "still here"

    other = page.context.new_page()
    other.goto(shared)
    expect(other.get_by_label("Team")).to_have_value("field-ops")
    expect(other.locator("#results").get_by_role("link", name="Route Optimizer")).to_be_visible()
    expect(other.locator("#results").get_by_role("link", name="Ticket Router")).to_have_count(0)
    other.close()
