"""The Backstage import pages: upload, a progress fragment htmx polls, the report."""

from __future__ import annotations

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from catalog.backstage import jobs as backstage_jobs
from catalog.models import BackstageEntity, BackstageSource, ImportJob, MicroApp
from catalog.models.imports import empty_report
from catalog.views.imports import ACTIONS
from tests.catalog.backstage_support import IMPORT, components, resources
from tests.factories import MicroAppFactory

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


# --- several files, one batch -----------------------------------------------------------


def test_several_files_are_one_batch_job(client, alice):
    client.force_login(alice)
    first = SimpleUploadedFile("a.yaml", components(2, prefix="a").encode())
    second = SimpleUploadedFile("b.yaml", resources(3).encode())

    response = client.post(PAGE, {"file": [first, second], "dry_run": "on"})

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.total == 5 and job.dry_run
    assert "name: a-1" in job.document and "bucket-2" in job.document


def test_a_file_that_is_not_utf8_yaml_is_named_and_nothing_is_queued(client, alice):
    client.force_login(alice)
    good = SimpleUploadedFile("good.yaml", components(1).encode())
    latin = SimpleUploadedFile("latin.yaml", "name: caf\xe9\n".encode("latin-1"))
    response = client.post(PAGE, {"file": [good, latin]})
    assert response.status_code == 400
    assert "latin.yaml: The file must be UTF-8 text." in response.content.decode()
    broken = SimpleUploadedFile("broken.yaml", b"kind: [unclosed\n")
    good = SimpleUploadedFile("good.yaml", components(1).encode())  # the first was read
    response = client.post(PAGE, {"file": [good, broken]})
    assert "broken.yaml:" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_api_takes_several_file_parts_as_one_background_job(api_as, alice):
    files = [
        SimpleUploadedFile("a.yaml", components(1, prefix="a").encode()),
        SimpleUploadedFile("b.yaml", components(1, prefix="b").encode()),
    ]
    response = api_as(alice).post(IMPORT, {"file": files}, format="multipart")
    assert response.status_code == 202, response.content
    assert ImportJob.objects.get().total == 2
    bad = SimpleUploadedFile("bad.yaml", b"\xff\xfe")
    refused = api_as(alice).post(IMPORT, {"file": [bad]}, format="multipart")
    assert refused.status_code == 400
    assert refused.json()["file"] == ["bad.yaml: The file must be UTF-8 text."]


# --- the per-entity report --------------------------------------------------------------


def finished_job(user, lines, *, dry_run=False, processed=None):
    report = empty_report()
    report["entities"] = lines
    counts = {a: sum(1 for line in lines if line["action"] == a) for a in ACTIONS}
    return ImportJob.objects.create(
        created_by=user,
        dry_run=dry_run,
        state="succeeded",
        total=processed or len(lines),
        processed=processed or len(lines),
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        skipped=counts["skipped"],
        errors=counts["error"],
        report=report,
    )


def line(ref, action, *, warnings=(), errors=()):
    kind = ref.split(":")[0].capitalize()
    return {
        "kind": kind,
        "ref": ref,
        "action": action,
        "warnings": list(warnings),
        "errors": list(errors),
    }


def test_a_dry_run_reports_each_entity_and_filters_by_action(client, alice):
    client.force_login(alice)
    job = finished_job(
        alice,
        [
            line("group:default/guests", "created"),
            line("component:default/example-website", "created", warnings=["No such API"]),
            line("system:default/examples", "skipped"),
            line(
                "component:default/broken",
                "error",
                errors=[{"field": "spec.owner", "message": "No such team."}],
            ),
        ],
        dry_run=True,
    )
    url = reverse("backstage-import-detail", args=[job.pk])

    page = client.get(url).content.decode()
    assert "Dry run: nothing was written" in page
    assert "Would create 2, update 0, unchanged 0, skipped 1, errors 1." in page
    assert page.count('<tr data-action="') == 4
    assert "component:default/example-website" in page and "No such API" in page
    assert "<code>spec.owner</code> No such team." in page
    assert "would create" in page
    only_errors = client.get(url, {"action": "error"}).content.decode()
    assert only_errors.count('<tr data-action="') == 1
    assert 'aria-current="page">Error<' in only_errors
    assert client.get(url, {"action": "nonsense"}).content.decode().count("<tr data-action") == 4
    assert "entities-capped" not in page


def test_the_report_links_what_exists_and_says_when_it_is_capped(
    client, alice, support_tools, settings
):
    client.force_login(alice)
    app = MicroAppFactory(team=support_tools, owner=alice, slug="website", name="Website")
    BackstageEntity.objects.create(
        ref="component:default/website", kind="component", name="website", app=app
    )
    BackstageEntity.objects.create(
        ref="group:default/support-tools", kind="group", name="support-tools", team=support_tools
    )
    settings.APPKEEPER_BACKSTAGE_REPORT_ENTITIES = 2
    job = finished_job(
        alice,
        [
            line("component:default/Website", "updated"),
            line("group:default/support-tools", "unchanged"),
        ],
        processed=9,
    )
    page = client.get(reverse("backstage-import-detail", args=[job.pk])).content.decode()
    assert f'<a href="{app.get_absolute_url()}">Website</a>' in page
    assert f'href="{reverse("team-detail", args=["support-tools"])}">Support Tools</a>' in page
    assert "Only the first 2 of 9 entities are listed" in page


@pytest.mark.parametrize("count", [3, 60])
def test_the_entity_table_costs_the_same_queries_whatever_its_length(
    count, client, alice, support_tools, django_assert_max_num_queries
):
    client.force_login(alice)
    lines = []
    for i in range(count):
        app = MicroAppFactory(team=support_tools, owner=alice, slug=f"app-{i}")
        BackstageEntity.objects.create(
            ref=f"component:default/app-{i}", kind="component", name=f"app-{i}", app=app
        )
        lines.append(line(f"component:default/app-{i}", "created"))
    job = finished_job(alice, lines)
    url = reverse("backstage-import-detail", args=[job.pk])
    client.get(url)
    with django_assert_max_num_queries(9):
        page = client.get(url).content.decode()
    assert page.count('<tr data-action="created">') == count


# --- the app page and the catalog -------------------------------------------------------


@pytest.fixture
def imported(alice, support_tools):
    """An app synced from a source, in namespace ``payments``, with what Appkeeper keeps."""
    source = BackstageSource.objects.create(
        name="Payments catalog", url="https://git.test/payments/catalog-info.yaml", created_by=alice
    )
    app = MicroAppFactory(team=support_tools, owner=None, slug="billing", name="Billing")
    BackstageEntity.objects.create(
        ref="component:payments/billing",
        kind="component",
        namespace="payments",
        name="billing",
        app=app,
        source=source,
        location="https://git.test/payments/catalog-info.yaml",
        document={
            "kind": "Component",
            "metadata": {
                "name": "billing",
                "namespace": "payments",
                "labels": {"tier": "gold"},
                "annotations": {
                    "github.com/project-slug": "acme/billing",
                    "appkeeper.io/environment": "production",
                },
                "links": [
                    {"url": "https://grafana.test/billing", "title": "Dashboard"},
                    {"url": "javascript:alert(1)", "title": "Sneaky"},
                ],
            },
            "spec": {
                "type": "grpc-service",
                "lifecycle": "deprecated",
                "system": "payments/ledger",
                "providesApis": ["billing-api"],
                "consumesApis": ["api:default/fx-rates"],
            },
        },
    )
    return app


def test_the_app_page_shows_what_backstage_knows(client, alice, imported):
    client.force_login(alice)
    page = client.get(imported.get_absolute_url()).content.decode()
    panel = page.split('id="backstage-panel"')[1].split("</section>")[0]
    assert "<code>component:payments/billing</code>" in panel
    assert "namespace payments" in page  # the header's label
    for text in (
        "grpc-service",
        "<code>payments/ledger</code>",
        "deprecated",
        "tier: gold",
        "Payments catalog",
        "<code>billing-api</code>",
        "api:default/fx-rates",
    ):
        assert text in panel, text
    assert "github.com/project-slug" in panel and "appkeeper.io/environment" not in panel
    assert '<a href="https://grafana.test/billing" rel="noopener noreferrer">Dashboard</a>' in panel
    assert 'href="javascript' not in page and "Sneaky" in panel
    assert "Team-owned (" in page
    assert "backstage-missing-banner" not in page and "deprecated-banner" not in page


def test_deprecated_and_missing_apps_say_so(client, alice, imported, support_tools):
    client.force_login(alice)
    with time_machine.travel("2026-03-01 12:00Z", tick=False):
        BackstageEntity.objects.filter(app=imported).update(missing_since=timezone.now())
    MicroApp.objects.filter(pk=imported.pk).update(deprecated=True)
    caller = MicroAppFactory(team=support_tools, owner=alice, slug="caller")
    caller.depends_on.add(imported)

    page = client.get(imported.get_absolute_url()).content.decode()
    assert "its maintainers say it should no longer be used" in page
    banner = page.split('id="backstage-missing-banner"')[1].split("</div>")[0]
    assert "Payments catalog" in banner and "after 14 days" in banner
    assert "2026-03-15" in banner or "15 Mar 2026" in banner
    calling = client.get(caller.get_absolute_url()).content.decode()
    assert 'data-deprecated-dependency="billing"' in calling
    listed = client.get(reverse("app-list")).content.decode()
    assert 'badge--sunsetting">Deprecated<' in listed


def test_the_catalog_and_the_api_filter_by_backstage_facts(
    client, api_as, alice, imported, support_tools
):
    MicroAppFactory(team=support_tools, owner=alice, slug="plain", name="Plain")
    client.force_login(alice)

    def listed(**query):
        page = client.get(reverse("app-list"), query).content.decode()
        return {slug for slug in ("billing", "plain") if f"/apps/{slug}/" in page}

    def answered(**query):
        rows = api_as(alice).get("/api/v1/apps/", query).json()["results"]
        return {row["slug"] for row in rows}

    assert 'id="id_namespace"' in client.get(reverse("app-list")).content.decode()
    for check in (listed, answered):
        assert check(namespace="Payments") == {"billing"}
        assert check(namespace="default") == set()
        assert check(deprecated="true") == set()
        assert check(deprecated="false") == {"billing", "plain"}
        assert check(missing_from_backstage="false") == {"billing", "plain"}
    BackstageEntity.objects.update(missing_since=timezone.now())
    MicroApp.objects.filter(slug="billing").update(deprecated=True)
    for check in (listed, answered):
        assert check(missing_from_backstage="true") == {"billing"}
        assert check(missing_from_backstage="false") == {"plain"}
        assert check(deprecated="true") == {"billing"}
    rows = {r["slug"]: r for r in api_as(alice).get("/api/v1/apps/").json()["results"]}
    assert rows["billing"]["backstage_ref"] == "component:payments/billing"
    assert rows["billing"]["deprecated"] is True
    assert rows["plain"]["backstage_ref"] is None and rows["plain"]["deprecated"] is False


@pytest.mark.parametrize("count", [2, 30])
def test_the_api_list_with_backstage_refs_costs_the_same_queries(
    count, api_as, alice, support_tools, django_assert_max_num_queries
):
    for i in range(count):
        app = MicroAppFactory(team=support_tools, owner=alice, slug=f"app-{i}")
        BackstageEntity.objects.create(
            ref=f"component:default/app-{i}", kind="component", name=f"app-{i}", app=app
        )
    client = api_as(alice)
    client.get("/api/v1/apps/?fields=slug,backstage_ref")
    with django_assert_max_num_queries(6):
        rows = client.get("/api/v1/apps/?fields=slug,backstage_ref").json()["results"]
    assert all(row["backstage_ref"] for row in rows)
    with django_assert_max_num_queries(12):
        rows = client.get("/api/v1/apps/").json()["results"]
    assert all(row["backstage_ref"] for row in rows)
