"""A batch of Backstage files through the import page in a real Chromium: the org file and
the Component file together, a dry run's per-entity table, then the import, and the app's
page showing what Backstage knows of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from catalog.backstage import jobs as backstage_jobs
from catalog.models import ImportJob, MicroApp, Team
from tests.e2e.conftest import follow_nav
from tests.e2e.guards import axe_violations

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "backstage" / "create-app-examples"


@pytest.mark.parametrize("width", [1280, 390])
def test_pat_imports_the_org_and_its_components_as_one_batch(
    browser, live_server, cast, sign_in, monkeypatch, width
):
    # The worker is this test: it runs each job once the page has queued it.
    queued: list[int] = []
    monkeypatch.setattr(backstage_jobs, "enqueue", queued.append)
    # bypass_csp lets the test inject axe-core, as the guards do.
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, "pat")
    files = [str(EXAMPLES / "org.yaml"), str(EXAMPLES / "entities.yaml")]

    follow_nav(page, "Backstage imports")
    page.get_by_label("Upload catalog-info.yaml files").set_input_files(files)
    expect(page.get_by_label("Dry run: report what would happen, write nothing")).to_be_checked()
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("heading", name="Waiting for a worker")).to_be_visible()
    assert backstage_jobs.import_run(queued[-1]) == "done"

    expect(page.get_by_role("heading", name="Dry run: nothing was written")).to_be_visible()
    expect(page.locator("#dry-run-summary")).to_contain_text("Would create")
    assert axe_violations(page) == []
    table = page.locator("#import-entities")
    # A reference holds slashes, which a role name pattern cannot: rows by their text.
    rows = table.locator("tbody tr")
    expect(rows.filter(has_text="group:default/guests")).to_contain_text("would create")
    expect(rows.filter(has_text="component:default/example-website")).to_contain_text(
        "would create"
    )
    page.get_by_role("link", name="Skipped", exact=True).click()
    expect(page.locator("#import-entities tbody tr[data-action]")).not_to_have_count(0)
    for row in page.locator("#import-entities tbody tr").all():
        expect(row).to_have_attribute("data-action", "skipped")
    assert not MicroApp.objects.exists()  # a dry run
    page.screenshot(path=f"/tmp/backstage-sync-dry-run-{width}.png", full_page=True)
    assert axe_violations(page) == []

    follow_nav(page, "Backstage imports")
    page.get_by_label("Upload catalog-info.yaml files").set_input_files(files)
    page.get_by_label("Dry run: report what would happen, write nothing").uncheck()
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("heading", name="Waiting for a worker")).to_be_visible()
    assert backstage_jobs.import_run(queued[-1]) == "done"
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    assert ImportJob.objects.count() == 2

    guests = Team.objects.get(backstage_entity__ref="group:default/guests")
    app = MicroApp.objects.get(backstage_entity__ref="component:default/example-website")
    assert app.team == guests
    page.locator("#import-entities").get_by_role("link", name=app.name).click()
    expect(page).to_have_url(re.compile(rf"/apps/{app.slug}/$"))
    panel = page.locator("#backstage-panel")
    expect(panel).to_contain_text("component:default/example-website")
    expect(panel).to_contain_text("examples")  # spec.system, as written
    expect(panel).to_contain_text("example-grpc-api")
    no_overflow = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_overflow), "the page scrolls sideways"
    page.screenshot(path=f"/tmp/backstage-sync-app-{width}.png", full_page=True)
    assert axe_violations(page) == []
    context.close()
