"""A Backstage import through the page in a real Chromium: the progress bar moves as the
worker commits chunks, then the report links the apps."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from catalog.backstage import jobs as backstage_jobs
from catalog.models import ImportJob, MicroApp
from tests.catalog.backstage_support import components, resources
from tests.e2e.conftest import follow_nav

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_alice_imports_a_catalog_and_watches_it_progress(
    browser, live_server, cast, sign_in, monkeypatch, tmp_path, width
):
    # Apps the group owns go to its team's lead, not to alice for importing them.
    support = cast["teams"]["support-tools"]
    support.lead = cast["users"]["alice"]
    support.save(update_fields=["lead"])
    # The worker is this test: it takes the chunks one at a time, between the page's polls.
    queued: list[int] = []
    monkeypatch.setattr(backstage_jobs, "enqueue", queued.append)
    catalog_file = tmp_path / "catalog-info.yaml"
    catalog_file.write_text(components(120) + resources(7))
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, "alice")

    follow_nav(page, "Backstage imports")
    expect(page.get_by_role("heading", name="Backstage imports", level=1)).to_be_visible()
    page.get_by_label("Upload catalog-info.yaml").set_input_files(str(catalog_file))
    page.get_by_label("Dry run: report what would happen, write nothing").uncheck()
    page.get_by_role("button", name="Start import").click()

    bar = page.locator("#import-bar")
    expect(page.get_by_role("heading", name="Waiting for a worker")).to_be_visible()
    expect(bar).to_have_attribute("max", "127")
    expect(bar).to_have_attribute("value", "0")
    job = ImportJob.objects.get()
    assert queued == [job.pk]

    backstage_jobs.import_chunk(job.pk)
    expect(page.get_by_role("heading", name="Importing…")).to_be_visible()
    expect(bar).to_have_attribute("value", "50")
    expect(page.locator("#import-count")).to_contain_text("50 of 127 entities (39%)")

    assert backstage_jobs.import_run(job.pk) == "done"
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(bar).to_have_attribute("value", "127")
    expect(page.locator(".import-report")).to_contain_text("Resource: 7")
    # Every entity has its row, with a link to the app it became.
    table = page.locator("#import-entities")
    expect(table.locator("tbody tr")).to_have_count(127)
    no_overflow = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_overflow), "the page scrolls sideways"

    table.get_by_role("link", name="gen-7", exact=True).click()
    expect(page).to_have_url(re.compile(r"/apps/gen-7/$"))
    assert MicroApp.objects.count() == 120
    follow_nav(page, "Backstage imports")
    expect(page.get_by_role("row", name=re.compile(f"#{job.pk}"))).to_contain_text("Succeeded")
    context.close()
