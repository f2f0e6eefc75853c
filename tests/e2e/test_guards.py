"""Browser guards: every page each role can reach works at desk and phone width.

One test per role signs in to the demo fleet (``load_demo``: the data a new user sees
first), then crawls from the primary navigation, the "Register an app" button, the API
docs, the app page of a representative app (whose panels link to renewals, contract
docs, the changelog and scorecards) and its blast radius. Each page is visited once per
route at 1366 and 390 px and fails the test on:

- horizontal overflow (``documentElement.scrollWidth > innerWidth``),
- a console error, an uncaught page error, or an htmx error event,
- a serious or critical axe-core violation (Swagger UI pages included: see guards.py),

and every same-origin link found on a visited page (logout and downloads aside) must
answer below 400. The message names the role, page, width and finding.

Run them alone with ``pytest tests/e2e/test_guards.py`` (needs ``npm ci`` for axe-core).
"""

from __future__ import annotations

import importlib
import io
import os
from collections import deque

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from playwright.sync_api import expect

from scorecards.management.commands.load_demo import DEMO_PASSWORD
from tests.e2e.guards import AXE, HEIGHT, HTMX_ERRORS_SCRIPT, Crawl, check_status, visit
from tests.e2e.guards import wants_visit as _wants_visit

pytestmark = [pytest.mark.e2e, pytest.mark.guards]
role_groups = importlib.import_module("catalog.migrations.0004_role_groups")

REPRESENTATIVE_APP = "ticket-router"
ROLES = ["alice", "carol", "pat", "fin"]
# Pages of the demo's dependency story, visited even when the crawl has already seen
# their route, because each shows what another page of the same route does not: a
# provider on a new major and the dependent left pinned behind it, a scheduled breaking
# version with its acknowledgements, an unanswered sunset case escalated because live
# apps call the app, and the apps of a person who left (``load_demo``).
STORY_PAGES = [
    "/apps/parts-lookup/",
    "/apps/quote-builder/",
    "/apps/crm-sync/contracts/2.0.0/?dependent=refund-helper",
    "/apps/escalation-pager/",
    "/sunset-cases/?status=awaiting_decision",
    # An app whose owner left with nobody to take over (the orphaned banner), and one
    # handed over to its co-owner (the handover in its history).
    "/apps/meeting-notes/",
    "/apps/language-detector/",
    "/teams/field-ops-mobile/",  # a sub-team imported from the demo's Backstage catalog
]
# Drafts imported from the demo's Backstage catalog, for those who may see them: an app of
# the mobile namespace owned by a team with no lead (the Backstage panel) and a deprecated
# one.
DRAFT_STORY = {
    role: ["/apps/mobile-route-planner/", "/apps/dispatch-board/"] for role in ("carol", "pat")
}
# The dependencies edit page, for an app each role may edit (fin edits none).
EDITS = {"alice": REPRESENTATIVE_APP, "carol": "refund-helper", "pat": "slack-digest"}


@pytest.fixture
def demo_fleet(transactional_db):
    # A live-server test's flush empties the role groups a data migration made; the demo
    # loader (rightly) refuses to run without them, so put them back as migrate would.
    role_groups.create_role_groups(django_apps, None)
    # A week of usage is enough for every chart and table to have rows.
    call_command("load_demo", "--usage-days", "7", stdout=io.StringIO())


@pytest.fixture
def guard_page(browser, demo_fleet):
    if not AXE.exists():
        # As with Chromium: a visible skip on a laptop, an error in CI.
        reason = f"{AXE} is missing: run `npm ci` at the repository root (make test does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    # bypass_csp lets the guard inject axe-core (a script tag the site's Content-Security-
    # Policy rightly refuses); the pages' own scripts run exactly as they would otherwise.
    context = browser.new_context(viewport={"width": 1366, "height": HEIGHT}, bypass_csp=True)
    context.add_init_script(HTMX_ERRORS_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in_demo(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def story_urls(base: str, role: str) -> list[str]:
    edits = [f"/apps/{EDITS[role]}/dependencies/"] if role in EDITS else []
    drafts = DRAFT_STORY.get(role, [])
    return [f"{base}{path}" for path in [*STORY_PAGES, *drafts, *edits]]


def start_urls(page, base: str) -> list[str]:
    """The primary navigation, the register button, the app page, its blast radius (it
    has dependents in the demo fleet) and the API docs."""
    nav = page.get_by_role("navigation", name="Primary")
    expect(nav).to_have_count(1)
    hrefs = nav.locator("a[href]").evaluate_all("(links) => links.map((a) => a.href)")
    register = page.get_by_role("link", name="Register an app").first.get_attribute("href")
    return [
        *hrefs,
        f"{base}{register}",
        f"{base}/apps/{REPRESENTATIVE_APP}/",
        f"{base}/apps/{REPRESENTATIVE_APP}/impact/",
        f"{base}/api/docs/",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_works_at_desk_and_phone_width(role, guard_page, live_server):
    base = live_server.url
    page = guard_page
    sign_in_demo(page, base, role)
    crawl = Crawl(role=role, origin=base)
    story = story_urls(base, role)
    queue = deque([*start_urls(page, base), *story])
    check_status(crawl, page, list(queue), found_on="the navigation")
    while queue:
        url = queue.popleft()
        if url in story:
            story.remove(url)  # visited once, whatever the crawl saw of its route
        elif not _wants_visit(crawl, url):
            continue
        links = visit(crawl, page, url)
        check_status(crawl, page, links, found_on=url[len(base) :])
        queue.extend(link for link in links if _wants_visit(crawl, link))

    # The crawl itself must have reached the pages it exists to guard.
    visited = {url[len(base) :].split("?")[0] for url in crawl.visited}
    assert {path.split("?")[0] for path in story_urls("", role)} <= visited, visited
    assert {
        "/",
        "/apps/",
        "/me/apps/",
        f"/apps/{REPRESENTATIVE_APP}/",
        f"/apps/{REPRESENTATIVE_APP}/impact/",
        "/teams/",
    } <= visited, visited
    # A team's page (the platform team's has the lead form), reached from the team list.
    assert any(path.startswith("/teams/") and path != "/teams/" for path in visited), visited
    assert not crawl.findings, crawl.report()
