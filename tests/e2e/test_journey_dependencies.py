"""An owner says how their app uses a dependency, in a browser: from the app page to the
dependency page, a refused range shown inline and focused, then saved and shown back. The
pages involved pass the same guards as the crawl (overflow, console, axe) at both widths."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Contract, Dependency
from tests.e2e.conftest import settled
from tests.e2e.guards import AXE, HTMX_ERRORS_SCRIPT, Crawl, visit
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.e2e

OPENAPI = {"openapi": "3.0.3", "paths": {"/tickets": {"get": {}, "post": {}}}}


@pytest.fixture
def pinned(cast):
    teams, users = cast["teams"], cast["users"]
    router = MicroAppFactory(
        slug="router",
        name="Router",
        team=teams["support-tools"],
        owner=users["alice"],
        state="active",
    )
    tickets = MicroAppFactory(
        slug="tickets",
        name="Tickets",
        team=teams["field-ops"],
        owner=users["carol"],
        state="active",
    )
    for version, days in (("1.4.0", 60), ("2.0.0", 5)):
        Contract.objects.create(
            app=tickets,
            kind="openapi",
            version=version,
            document=OPENAPI,
            sha256=Contract.digest(version),
            created_at=timezone.now() - timedelta(days=days),
        )
    Dependency.objects.create(from_microapp=router, to_microapp=tickets, version_range="^1")
    return router


def test_an_owner_declares_what_a_dependency_serves_and_fixes_a_refused_range(
    page, sign_in, live_server, pinned
):
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/apps/router/")
    expect(page.get_by_text("Tickets is at 2.0.0")).to_be_visible()

    page.get_by_role("link", name="Say which operations and versions it uses").click()
    page.get_by_role("checkbox", name="GET /tickets").check()
    versions = page.get_by_label("Contract versions")
    versions.fill("newest")
    page.get_by_role("button", name="Save").click()
    settled(page)

    expect(page.locator("#error-summary")).to_be_focused()
    expect(versions).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_tickets-version_range_errors")).to_contain_text(
        "is not a version range"
    )
    expect(page.get_by_role("checkbox", name="GET /tickets")).to_be_checked()  # kept

    page.get_by_label("Contract versions").fill("^2")
    page.get_by_role("button", name="Save").click()
    settled(page)

    expect(page).to_have_url(f"{live_server.url}/apps/router/#deps-title")
    expect(page.get_by_text("Saved how Router uses its dependencies.")).to_be_visible()
    dependencies = page.locator("section[aria-labelledby='deps-title']")
    expect(dependencies).to_contain_text("Pinned to ^2")
    expect(dependencies).to_contain_text("GET /tickets")
    expect(dependencies).not_to_contain_text("Behind")


def test_the_dependency_pages_pass_the_guards(browser, sign_in, live_server, pinned):
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `npm ci` at the repository root")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    context.add_init_script(HTMX_ERRORS_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, "alice")
        crawl = Crawl(role="alice", origin=live_server.url)
        for path in ("/apps/router/dependencies/", "/apps/tickets/", "/apps/router/"):
            visit(crawl, page, f"{live_server.url}{path}")
        assert not crawl.findings, crawl.report()
    finally:
        context.close()
