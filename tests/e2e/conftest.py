"""Playwright driving Debian's Chromium against a live Django server.

Chromium is found on PATH (never downloaded). Outside CI a missing browser skips these
tests with a visible reason; under CI=true it is an error.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP
from tests.factories import PASSWORD, RegionFactory, TeamFactory, UserFactory, add_to_group

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    in_ci = os.environ.get("CI", "").lower() == "true"
    if path is None:
        if in_ci:
            pytest.fail("Chromium is not installed (apt-get install -y chromium); CI needs it.")
        pytest.skip("Chromium not found on PATH: install Debian's chromium to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Counts htmx requests in flight on every page (set before any page script runs), so a
# test can wait for the page to be quiet instead of sleeping: see settled().
HTMX_TRACKER = """
window.__htmxInFlight = 0;
document.addEventListener("htmx:beforeRequest", () => { window.__htmxInFlight += 1; });
document.addEventListener("htmx:afterRequest", () => { window.__htmxInFlight -= 1; });
"""
QUIET = """() => document.readyState === "complete" && !!window.htmx
  && (window.__htmxInFlight || 0) === 0
  && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")"""


def settled(page) -> None:
    """Wait until the page has loaded (htmx and app.js are wired up: typing before that is
    typing into a form nothing listens to) and no htmx request is in flight or settling.

    Playwright's actions wait for an element to be *visible*, which on a busy machine can
    be before the deferred scripts have run; this waits for the events instead."""
    page.wait_for_load_state("load")
    page.wait_for_function(QUIET)


def follow_nav(page, name: str) -> None:
    """Follow a primary navigation entry as a person would at the page's width: below
    980 px the entries sit behind the Menu button, so open it first."""
    settled(page)  # the Menu button exists once app.js has run
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("navigation", name="Primary").get_by_role("link", name=name).click()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(HTMX_TRACKER)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def cast(transactional_db):
    """The demo cast, with regions, for a live server."""
    regions = {
        "eu-central": RegionFactory(
            code="eu-central", name="EU Central", jurisdiction="EU", pci=True
        ),
        "eu-sovereign": RegionFactory(
            code="eu-sovereign", name="EU Sovereign", jurisdiction="EU", sovereign=True
        ),
        "us-east": RegionFactory(code="us-east", name="US East", jurisdiction="US", pci=True),
        "uk-south": RegionFactory(code="uk-south", name="UK South", jurisdiction="UK"),
    }
    support = TeamFactory(slug="support-tools", name="Support Tools")
    field_ops = TeamFactory(slug="field-ops", name="Field Ops")
    platform = TeamFactory(slug="platform", name="Platform")
    users = {
        "alice": UserFactory(username="alice"),
        "bob": UserFactory(username="bob"),
        "carol": UserFactory(username="carol"),
        "pat": UserFactory(username="pat", is_staff=True),
        "fin": UserFactory(username="fin"),
    }
    support.members.add(users["alice"], users["bob"])
    field_ops.members.add(users["carol"])
    platform.members.add(users["pat"])
    add_to_group(users["pat"], PLATFORM_GROUP)
    add_to_group(users["fin"], FINANCE_GROUP)
    return {
        "regions": regions,
        "teams": {"support-tools": support, "field-ops": field_ops, "platform": platform},
        "users": users,
    }


@pytest.fixture
def sign_in(live_server):
    """Sign in through the real login form, as a person would."""

    def do(page, username: str) -> None:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        settled(page)

    return do
