"""Journey: an app is orphaned when its owner leaves; pat finds it on the dashboard,
follows "Assign owner", previews and confirms the move to bob. The transfer page passes
axe with its errors and with its preview."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.choices import AppState
from catalog.models import MicroApp
from tests.e2e.conftest import settled
from tests.e2e.guards import axe_violations
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser):
    # bypass_csp lets the test inject axe-core, as the guards do.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_pat_gives_an_orphaned_app_a_new_owner(page, cast, sign_in, live_server):
    gone = UserFactory(username="gone", is_active=False)
    MicroAppFactory(
        name="Lonely Widget",
        slug="lonely-widget",
        team=cast["teams"]["support-tools"],
        owner=gone,
        state=AppState.ACTIVE,
        orphaned_at=timezone.now(),
    )

    sign_in(page, "pat")
    panel = page.get_by_role("region", name="Apps waiting for an owner")
    expect(panel.get_by_role("link", name="Lonely Widget", exact=True)).to_be_visible()
    panel.get_by_role("link", name="Assign owner to Lonely Widget").click()
    settled(page)
    expect(page.get_by_label("Or these apps")).to_have_value("lonely-widget")

    page.get_by_role("button", name="Preview").click()  # no new owner yet
    settled(page)
    expect(page.locator("#error-summary")).to_contain_text("Name the person who will own")
    assert axe_violations(page) == []

    page.get_by_label("To person").fill("bob")
    page.get_by_role("button", name="Preview").click()
    settled(page)
    expect(page.get_by_role("heading", name="Preview: 1 app would move to bob")).to_be_visible()
    assert axe_violations(page) == []
    assert MicroApp.objects.get(slug="lonely-widget").owner == gone

    page.get_by_label("Reason").fill("Bob looks after the support widgets now.")
    page.get_by_role("button", name="Transfer 1 app to bob").click()
    page.wait_for_url(f"{live_server.url}/apps/?owner=bob")
    expect(page.get_by_text("1 app moved to bob.")).to_be_visible()
    app = MicroApp.objects.get(slug="lonely-widget")
    assert app.owner.username == "bob" and app.orphaned_at is None
