"""Journey: alice retires Billing, which carol's CRM calls. The Retire page names CRM and
refuses until it is ticked; then carol's CRM page flags the dependency on a retired app.
Both pages pass axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from catalog.choices import AppState
from catalog.models import MicroApp
from tests.e2e.conftest import settled
from tests.e2e.guards import axe_violations
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser):
    # bypass_csp lets the test inject axe-core, as the guards do; the site's own pages
    # are checked against the policy elsewhere.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_retiring_an_app_others_call_names_them_and_flags_the_callers(
    page, cast, sign_in, live_server
):
    teams, users = cast["teams"], cast["users"]
    billing = MicroAppFactory(
        name="Billing",
        slug="billing",
        team=teams["support-tools"],
        owner=users["alice"],
        state=AppState.ACTIVE,
    )
    MicroAppFactory(
        name="CRM", slug="crm", team=teams["field-ops"], owner=users["carol"], state="active"
    ).depends_on.add(billing)

    sign_in(page, "alice")
    page.goto(f"{live_server.url}/apps/billing/")
    page.get_by_role("link", name="Retire…").click()
    settled(page)
    expect(page.get_by_role("group", name="1 live app calls Billing")).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_label("Reason").fill("Replaced by the Ledger service.")
    page.get_by_role("button", name="Retire Billing").click()
    settled(page)
    group = page.get_by_role("group", name="1 live app calls Billing")
    expect(group).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Tick each app that calls it")).to_be_visible()
    expect(page.get_by_label("Reason")).to_have_value("Replaced by the Ledger service.")
    assert MicroApp.objects.get(slug="billing").state == AppState.ACTIVE

    group.get_by_role("checkbox", name=re.compile("CRM")).check()
    page.get_by_role("button", name="Retire Billing").click()
    page.wait_for_url(f"{live_server.url}/apps/billing/")
    expect(page.get_by_text("Billing is retired.")).to_be_visible()

    page.context.clear_cookies()  # alice signs out; carol signs in
    sign_in(page, "carol")
    page.goto(f"{live_server.url}/apps/crm/")
    expect(page.get_by_text("On a retired app")).to_be_visible()
    expect(page.get_by_text("Calls no retired app")).to_be_visible()
    assert axe_violations(page) == []
