"""The Backstage import pages: upload, a progress fragment htmx polls, the report."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.backstage import jobs as backstage_jobs
from catalog.models import ImportJob, MicroApp
from tests.catalog.backstage_support import components, resources

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def support_tools_lead(support_tools, alice):
    # Apps a group owns go to its team's lead (never to whoever imports them).
    support_tools.lead = alice
    support_tools.save(update_fields=["lead"])


PAGE = "/imports/"


def test_uploading_a_file_queues_a_job_and_shows_its_page(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    upload = SimpleUploadedFile("catalog-info.yaml", components(3).encode(), "application/yaml")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PAGE, {"file": upload})

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("backstage-import-detail", args=[job.pk])
    assert not job.dry_run  # an unticked checkbox is no dry run
    page = client.get(response["Location"]).content.decode()
    assert "Import finished" in page and 'value="3"' in page
    assert 'hx-trigger="every 1s"' not in page  # finished: the page stops polling
    assert f'href="{reverse("app-detail", args=["gen-0"])}"' in page
    assert MicroApp.objects.count() == 3


def test_a_running_job_polls_and_the_fragment_is_the_progress_only(client, alice):
    client.force_login(alice)
    client.post(PAGE, {"text": components(60), "dry_run": "on"})
    job = ImportJob.objects.get()
    backstage_jobs.import_chunk(job.pk)
    url = reverse("backstage-import-detail", args=[job.pk])

    page = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<html" in page
    fragment = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-progress")
    body = fragment.content.decode()
    assert "<html" not in body and 'id="import-progress"' in body
    assert '<progress id="import-bar" max="60" value="50"' in body
    assert "Importing" in body
    assert "HX-Request" in fragment["Vary"]
    assert not MicroApp.objects.exists()  # a dry run


def test_form_errors_are_shown_inline_and_nothing_is_queued(client, alice, settings):
    client.force_login(alice)
    assert "Upload a catalog-info.yaml or paste it." in client.post(PAGE, {}).content.decode()
    settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND = 2
    over = client.post(PAGE, {"text": components(3)})
    assert over.status_code == 400
    assert "more than 2 entities" in over.content.decode()
    bad = client.post(PAGE, {"text": "---\nkind: [unclosed\n"})
    assert "The file cannot be read" in bad.content.decode()
    settings.APPKEEPER_BACKSTAGE_MAX_BYTES = 1024
    big = client.post(PAGE, {"text": components(1) + "# " + "x" * 2000})
    assert "the limit is 1024 bytes" in big.content.decode()
    assert not ImportJob.objects.exists()


def test_the_page_lists_only_the_users_jobs(client, alice, carol, fin):
    client.force_login(alice)
    client.post(PAGE, {"text": components(1)})
    job = ImportJob.objects.get()

    client.force_login(carol)
    assert f"#{job.pk}" not in client.get(PAGE).content.decode()
    assert client.get(reverse("backstage-import-detail", args=[job.pk])).status_code == 404
    client.force_login(fin)  # in no team: cannot register apps, so cannot import
    assert client.get(PAGE).status_code == 403


@pytest.mark.parametrize("count", [3, 30])
def test_the_pages_cost_the_same_queries_whatever_the_number_of_jobs(
    count, client, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    ImportJob.objects.bulk_create(
        ImportJob(created_by=alice, total=4, processed=4, state="succeeded") for _ in range(count)
    )
    backstage_jobs.import_start(user=alice, text=components(2) + resources(2), dry_run=True)
    backstage_jobs.import_run(ImportJob.objects.first().pk)
    job = ImportJob.objects.first()
    client.get(PAGE)  # warm the session
    with django_assert_max_num_queries(8):
        assert client.get(PAGE).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("backstage-import-detail", args=[job.pk])).status_code == 200


def test_the_nav_links_the_page_for_who_may_import(client, alice, fin):
    client.force_login(alice)
    assert f'href="{PAGE}"' in client.get("/").content.decode()
    client.force_login(fin)
    assert f'href="{PAGE}"' not in client.get("/").content.decode()
