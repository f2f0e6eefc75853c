"""The pages people use keep working under the Content-Security-Policy, in a real browser.

Chromium reports every blocked script, style or evaluation on the console ("Refused to
...", "... violates the following Content Security Policy directive ..."), and an unknown
feature in the Permissions-Policy as an error too; any such message fails the test.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from catalog.choices import AppState
from tests.e2e.conftest import settled
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.e2e

COMPLAINTS = ("content security policy", "refused to", "permissions-policy", "permissions policy")


@pytest.fixture
def complaints(page):
    """Console messages and page errors about the policies, collected as they happen."""
    seen: list[str] = []

    def on_console(message) -> None:
        if any(word in message.text.lower() for word in COMPLAINTS):
            seen.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.append(f"pageerror: {error}"))
    return seen


def test_dashboard_live_search_and_register_form_run_under_the_policy(
    page, live_server, cast, sign_in, complaints
):
    MicroAppFactory(
        name="Ticket Router",
        slug="ticket-router",
        team=cast["teams"]["support-tools"],
        owner=cast["users"]["alice"],
        state=AppState.ACTIVE,
    )
    MicroAppFactory(
        name="Visit Logger",
        slug="visit-logger",
        team=cast["teams"]["support-tools"],
        owner=cast["users"]["alice"],
        state=AppState.ACTIVE,
    )
    sign_in(page, "alice")
    response = page.goto(f"{live_server.url}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "camera=()" in response.headers["permissions-policy"]
    # app.js ran (it swaps the no-js class), so same-origin scripts are allowed.
    expect(page.locator("html")).to_have_class("js")

    # The catalog's live search is an htmx swap: the results follow the typed query.
    page.get_by_role("link", name="Catalog").click()
    settled(page)
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    page.locator("#id_q").fill("router")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ticket Router")
    # htmx's indicator styles come from app.css, not an injected <style>.
    assert page.locator("style").count() == 0
    opacity = page.locator(".htmx-indicator").first.evaluate("e => getComputedStyle(e).opacity")
    assert opacity == "0"

    # The register form's inline validation (htmx) and slug suggestion (app.js).
    page.get_by_role("link", name="Register an app").first.click()
    settled(page)  # typing before app.js runs would type into a form nothing listens to
    page.get_by_label("Name").fill("Ticket Router")
    expect(page.get_by_label("Slug")).to_have_value("ticket-router")
    page.get_by_label("Description").click()
    expect(page.locator("#id_slug_errors")).to_contain_text("Another app already uses this slug")

    assert complaints == [], "\n".join(complaints)


def test_swagger_ui_renders_the_operations_under_the_policy(page, live_server, complaints):
    response = page.goto(f"{live_server.url}/api/docs/")
    # The Swagger UI needs no relaxation at all: not even style attributes.
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible()
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/apps/").first
    expect(operation).to_be_visible()
    # Opening an operation renders its parameters and response schemas (more React, more
    # SVG icons) under the same policy.
    operation.click()
    expect(page.locator(".opblock.is-open .parameters-container").first).to_be_visible()
    expect(page.locator(".opblock.is-open .responses-wrapper").first).to_be_visible()
    assert complaints == [], "\n".join(complaints)


def test_the_browsable_api_runs_under_the_policy(page, live_server, cast, sign_in, complaints):
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/api/v1/apps/")
    expect(page.locator(".response-info")).to_contain_text('"results"')
    assert complaints == [], "\n".join(complaints)


def test_the_platform_pages_and_the_admin_run_under_the_policy(
    page, live_server, cast, sign_in, complaints
):
    MicroAppFactory(
        name="Ticket Router",
        slug="ticket-router",
        team=cast["teams"]["support-tools"],
        owner=cast["users"]["alice"],
        state=AppState.ACTIVE,
    )
    sign_in(page, "pat")
    # The fleet chart's legend: its colours are SVG fills, not style attributes.
    expect(page.locator(".legend__swatch rect").first).to_be_attached()
    for path, heading in (
        ("/ops/", "Operations"),
        ("/reviews/", "Reviews"),
        ("/policies/", "Policies"),
    ):
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1).first).to_contain_text(heading)
    cast["users"]["pat"].is_superuser = True
    cast["users"]["pat"].save(update_fields=["is_superuser"])
    page.goto(f"{live_server.url}/admin/catalog/microapp/add/")
    expect(page.locator("#microapp_form")).to_be_visible()
    page.goto(f"{live_server.url}/admin/catalog/microapp/")
    expect(page.locator("#changelist")).to_be_visible()
    assert complaints == [], "\n".join(complaints)
