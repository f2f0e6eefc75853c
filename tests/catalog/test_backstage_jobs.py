"""Background Backstage imports: queued by the API, processed in chunks by the task,
visible to their importer, their team and the platform team only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.backstage import components as backstage_components
from catalog.backstage import importer as backstage
from catalog.backstage import jobs as backstage_jobs
from catalog.models import BackstageEntity, ImportJob, MicroApp
from tests.catalog.backstage_support import (
    JOBS,
    component,
    components,
    post_yaml,
    resources,
)
from tests.contracts.test_documents import BILLION_LAUGHS as DOCUMENT_BOMB
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def support_tools_lead(support_tools, alice):
    # Apps a group owns go to its team's lead (never to whoever imports them).
    support_tools.lead = alice
    support_tools.save(update_fields=["lead"])


PETSTORE_API = """---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: gen-0-api, annotations: {appkeeper.io/version: 1.0.0}}
spec:
  type: openapi
  lifecycle: experimental
  owner: support-tools
  definition: |
    openapi: 3.0.3
    info: {title: Gen, version: 1.0.0}
    paths: {}
"""


def queue(client, text: str, query: str = "?background=true"):
    return post_yaml(client, text, query)


def test_a_background_import_runs_to_the_end_and_reports(
    api_as, alice, django_capture_on_commit_callbacks
):
    text = component("gen-0", depends_on="gen-119") + "".join(
        component(f"gen-{i}") for i in range(1, 120)
    )
    text += PETSTORE_API.replace("gen-0-api", "gen-0") + resources(30)
    client = api_as(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = queue(client, text)

    assert response.status_code == 202, response.json()
    assert response["Location"] == response.json()["url"]
    job = client.get(response["Location"]).json()
    assert job["state"] == "succeeded" and job["dry_run"] is False
    assert (job["total"], job["processed"], job["percent"]) == (151, 151, 100)
    assert job["summary"] == {
        "created": 121,  # 120 apps and the API
        "updated": 0,
        "unchanged": 0,
        "skipped": 30,
        "errors": 0,
    }
    assert job["report"]["skipped_kinds"] == {"Resource": 30}
    assert len(job["report"]["apps"]) == backstage_jobs.REPORT_LIMIT
    assert job["created_by"] == "alice" and job["started_at"] and job["finished_at"]
    assert MicroApp.objects.count() == 120
    lines = job["report"]["entities"]
    assert len(lines) == 151
    assert lines[0] == {
        "kind": "Component",
        "ref": "component:default/gen-0",
        "action": "created",
        "warnings": [],
        "errors": [],
    }
    assert [line["kind"] for line in lines[119:122]] == ["Component", "API", "Resource"]
    stored = ImportJob.objects.get()
    assert stored.document == "" and stored.resume == {}


def test_progress_is_committed_per_chunk(api_as, alice):
    client = api_as(alice)
    response = queue(client, components(120))  # on_commit not run: the job waits
    job_id = response.json()["id"]
    assert client.get(f"{JOBS}{job_id}/").json()["state"] == "queued"

    outcome, plan = backstage_jobs.import_chunk(job_id)

    assert outcome == "more"
    progress = client.get(f"{JOBS}{job_id}/").json()
    assert progress["state"] == "running"
    assert (progress["processed"], progress["percent"]) == (50, 41)
    assert progress["summary"]["created"] == 50
    assert MicroApp.objects.count() == 50
    assert backstage_jobs.import_run(job_id) == "done"
    assert client.get(f"{JOBS}{job_id}/").json()["summary"]["created"] == 120


def test_a_background_dry_run_writes_nothing(api_as, alice, django_capture_on_commit_callbacks):
    text = component("gen-0", depends_on="gen-70") + components(80)[len(component("gen-0")) :]
    text += PETSTORE_API.replace("gen-0-api", "gen-0")
    with django_capture_on_commit_callbacks(execute=True):
        response = queue(api_as(alice), text, "?background=true&dry_run=true")

    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.state == "succeeded" and job.dry_run
    assert (job.created, job.errors) == (81, 0), job.report
    assert job.report["warnings"] == []  # gen-70 is in the file: not dangling
    assert not MicroApp.objects.exists()


def test_errors_are_counted_and_listed_up_to_the_limit(
    api_as, alice, django_capture_on_commit_callbacks
):
    text = components(150, owner="nobody") + components(5, prefix="fine")
    with django_capture_on_commit_callbacks(execute=True):
        job_id = queue(api_as(alice), text).json()["id"]

    job = api_as(alice).get(f"{JOBS}{job_id}/").json()
    assert job["state"] == "succeeded"
    assert job["summary"]["errors"] == 150 and job["summary"]["created"] == 5
    assert len(job["report"]["errors"]) == backstage_jobs.REPORT_LIMIT
    assert "Unknown owner" in job["report"]["errors"][0]["errors"][0]["message"]
    # Unlike an import in the request, the valid entities are written.
    assert MicroApp.objects.filter(slug__startswith="fine-").count() == 5


def test_the_background_cap_is_413_and_broken_yaml_400_at_once(api_as, alice, settings):
    settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND = 10
    client = api_as(alice)

    over = queue(client, components(11))
    assert over.status_code == 413 and over.json()["limit"] == 10
    assert "background import" in over.json()["detail"]
    broken = queue(client, components(3) + "---\nkind: [unclosed\n")
    assert broken.status_code == 400 and "line 18" in str(broken.json()["yaml"])
    aliased = queue(client, "kind: A\n" + DOCUMENT_BOMB)
    assert "anchors and aliases expand" in str(aliased.json()["yaml"])
    assert not ImportJob.objects.exists()


def test_a_json_string_body_is_400_not_a_queued_job(api_as, alice):
    # The JSON body is an object ({"yaml": ...}); a bare JSON string is not, even if the
    # string would read as YAML. Found by schemathesis: it used to queue a job.
    answer = api_as(alice).post(
        "/api/v1/apps/import/?background=true&dry_run=true",
        '"AAA"',
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "non_field_errors": ["Send a JSON object with yaml, or the YAML as text."]
    }
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}\n", "document 1 has no kind"),
        ("- 1\n", "document 1 is not a mapping"),
        (
            "kind: Component\nmetadata: {name: a}\n---\nmetadata:\n  kind: nested\n",
            "document 2 has no kind",
        ),
    ],
)
def test_a_document_that_is_no_entity_is_400_before_a_job_is_queued(api_as, alice, text, message):
    # Schemathesis posted "{}" as YAML: the background path took it and failed later,
    # where the request-time import refuses it at once. The scan now checks each root.
    answer = queue(api_as(alice), text)
    assert answer.status_code == 400
    assert message in str(answer.json()["yaml"])
    assert not ImportJob.objects.exists()


def test_misshapen_entities_fail_the_job_before_anything_is_written(
    api_as, alice, django_capture_on_commit_callbacks
):
    text = components(3) + "---\nkind: Component\nmetadata: [1]\n---\nkind: Group\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = queue(api_as(alice), text)

    assert response.status_code == 202
    job = api_as(alice).get(response["Location"]).json()
    assert job["state"] == "failed" and job["total"] == 5
    assert job["failure"] == "1 entities are wrongly shaped; nothing was imported."
    assert job["report"]["errors"] == [
        {
            "kind": "Component",
            "name": "?",
            "errors": [{"field": "metadata", "message": "metadata must be a mapping."}],
        }
    ]
    assert not MicroApp.objects.exists()


def test_other_teams_cannot_see_a_job(api_as, alice, bob, carol, pat):
    mine = queue(api_as(alice), components(2)).json()["id"]
    scoped = queue(api_as(alice), components(2), "?background=true&team=support-tools")
    scoped_id = scoped.json()["id"]

    assert api_as(carol).get(f"{JOBS}{mine}/").status_code == 404
    assert api_as(carol).get(f"{JOBS}{scoped_id}/").status_code == 404
    assert api_as(carol).get(JOBS).json()["results"] == []
    # A teammate sees the job made for the team, not the importer's own unscoped one.
    assert api_as(bob).get(f"{JOBS}{mine}/").status_code == 404
    assert api_as(bob).get(f"{JOBS}{scoped_id}/").json()["team"] == "support-tools"
    assert {j["id"] for j in api_as(pat).get(JOBS).json()["results"]} == {mine, scoped_id}
    assert {j["id"] for j in api_as(alice).get(JOBS).json()["results"]} == {mine, scoped_id}


def test_a_team_scope_refuses_other_owners_and_foreign_teams(
    api_as, alice, field_ops, django_capture_on_commit_callbacks
):
    client = api_as(alice)
    assert queue(client, components(1), "?background=true&team=field-ops").status_code == 400
    assert queue(client, components(1), "?background=true&team=nope").status_code == 400

    text = components(2) + components(1, prefix="theirs", owner="field-ops")
    with django_capture_on_commit_callbacks(execute=True):
        job_id = queue(client, text, "?background=true&team=support-tools").json()["id"]

    job = ImportJob.objects.get(pk=job_id)
    assert (job.created, job.errors) == (2, 1)
    assert "for team support-tools" in job.report["errors"][0]["errors"][0]["message"]


def test_a_crash_mid_chunk_leaves_no_half_app_and_the_job_resumes(api_as, alice, monkeypatch):
    job_id = queue(api_as(alice), components(60)).json()["id"]
    real = backstage_components.import_component
    calls = []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 55:  # inside the second chunk
            raise ConnectionError("database went away")
        return real(*args)

    monkeypatch.setattr(backstage_components, "import_component", flaky)
    assert backstage_jobs.import_chunk(job_id)[0] == "more"
    with pytest.raises(ConnectionError):
        backstage_jobs.import_chunk(job_id)

    job = ImportJob.objects.get(pk=job_id)
    assert (job.state, job.processed, job.created) == ("running", 50, 50)
    assert MicroApp.objects.count() == 50  # the second chunk rolled back whole
    assert backstage_jobs.import_run(job_id) == "done"
    job.refresh_from_db()
    assert (job.state, job.processed, job.created) == ("succeeded", 60, 60)
    assert MicroApp.objects.count() == 60


def test_an_unexpected_error_fails_the_job_clearly(api_as, alice, monkeypatch):
    job_id = queue(api_as(alice), components(3)).json()["id"]

    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(backstage_components, "import_component", broken)
    assert backstage_jobs.import_run(job_id) == "failed"

    job = api_as(alice).get(f"{JOBS}{job_id}/").json()
    assert job["state"] == "failed" and job["failure"] == "RuntimeError: boom"
    assert job["finished_at"] and not ImportJob.objects.get(pk=job_id).document
    assert backstage_jobs.import_run(job_id) == "idle"  # a finished job is never rerun


def test_a_run_hands_over_to_a_fresh_task_after_its_time(
    api_as, alice, monkeypatch, django_capture_on_commit_callbacks
):
    job_id = queue(api_as(alice), components(120)).json()["id"]
    queued = []
    monkeypatch.setattr(backstage_jobs, "enqueue", queued.append)

    assert backstage_jobs.import_run(job_id, seconds=0) == "continued"

    assert queued == [job_id]
    assert ImportJob.objects.get(pk=job_id).processed == 50


def test_stalled_jobs_are_enqueued_again(api_as, alice, monkeypatch, time_machine):
    job_id = queue(api_as(alice), components(2)).json()["id"]
    queued = []
    monkeypatch.setattr(backstage_jobs, "enqueue", queued.append)

    assert backstage_jobs.import_resume_stalled() == 0
    later = timezone.now() + backstage_jobs.STALLED_AFTER + timedelta(seconds=1)
    time_machine.move_to(later, tick=False)
    assert backstage_jobs.import_resume_stalled() == 1
    assert queued == [job_id]


@pytest.mark.parametrize("size", [60, 240])
def test_a_chunk_costs_the_same_queries_whatever_the_catalog_size(
    size, api_as, alice, django_assert_max_num_queries
):
    """A chunk of 50 Components: the API's own per-app validation and writes, plus a fixed
    few for the job; independent of how many entities the file holds."""
    text = components(size) + resources(size)
    job_id = queue(api_as(alice), text).json()["id"]
    MicroAppFactory(slug="gen-elsewhere")

    # About 37 a Component (the entity, the app through the API serializer and services,
    # its relations): the same whatever the catalog holds.
    with django_assert_max_num_queries(backstage_jobs.CHUNK_SIZE * 40 + 10):
        backstage_jobs.import_chunk(job_id)
    assert ImportJob.objects.get(pk=job_id).processed == backstage_jobs.CHUNK_SIZE


@pytest.mark.parametrize("size", [60, 240])
def test_other_kinds_are_kept_counted_and_cost_the_same_per_chunk(
    size, api_as, alice, django_assert_max_num_queries
):
    job_id = queue(api_as(alice), resources(size)).json()["id"]
    with django_assert_max_num_queries(backstage_jobs.CHUNK_SIZE * 4 + 10):
        assert backstage_jobs.import_chunk(job_id)[0] == "more"
    assert backstage_jobs.import_run(job_id) == "done"
    job = ImportJob.objects.get(pk=job_id)
    assert (job.skipped, job.report["skipped_kinds"]) == (size, {"Resource": size})
    assert BackstageEntity.objects.filter(kind="resource").count() == size


def test_import_start_refuses_more_than_the_background_cap(alice, settings):
    settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND = 2
    with pytest.raises(backstage.TooManyEntities):
        backstage_jobs.import_start(user=alice, text=components(3), dry_run=True)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_import_each_entity_once(alice, monkeypatch):
    """Two tasks for one job (a redelivery, the stall sweep): the row lock hands each chunk
    to one of them, so every app is written once and the counts add up exactly."""
    from tests.conftest import require_postgres
    from tests.lifecycle.test_concurrency import twice_at_once

    require_postgres("needs PostgreSQL for concurrent transactions (row locks, SKIP LOCKED)")
    monkeypatch.setattr(backstage_jobs, "enqueue", lambda job_id: None)
    job = backstage_jobs.import_start(user=alice, text=components(160), dry_run=False)

    results, errors = twice_at_once(lambda: backstage_jobs.import_run(job.pk))

    assert errors == []
    assert "done" in results
    job.refresh_from_db()
    assert (job.state, job.processed, job.created, job.errors) == ("succeeded", 160, 160, 0)
    assert MicroApp.objects.count() == 160


def test_the_stall_sweep_runs_every_minute():
    from config.celery import app as celery_app

    entry = celery_app.conf.beat_schedule["resume-import-jobs"]
    assert entry == {"task": "catalog.resume_import_jobs", "schedule": 60.0}


def test_importing_the_same_file_again_reports_unchanged(
    api_as, alice, django_capture_on_commit_callbacks
):
    text = components(3) + PETSTORE_API.replace("gen-0-api", "gen-0")
    client = api_as(alice)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            job_id = queue(client, text).json()["id"]

    # The same file again: every entity is as the last import left it, nothing is written.
    assert client.get(f"{JOBS}{job_id}/").json()["summary"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 4,
        "skipped": 0,
        "errors": 0,
    }


@pytest.mark.parametrize("count", [2, 25])
def test_the_job_list_costs_the_same_queries_whatever_its_length(
    count, api_as, alice, django_assert_max_num_queries
):
    ImportJob.objects.bulk_create(
        ImportJob(created_by=alice, total=1, processed=1, state="succeeded") for _ in range(count)
    )
    client = api_as(alice)
    with django_assert_max_num_queries(4):
        response = client.get(JOBS)
    assert response.json()["count"] == count
    job_id = response.json()["results"][0]["id"]
    with django_assert_max_num_queries(3):
        assert client.get(f"{JOBS}{job_id}/").status_code == 200


def test_an_importer_has_at_most_three_unfinished_jobs(api_as, alice, bob):
    client = api_as(alice)
    for _ in range(backstage_jobs.MAX_UNFINISHED):
        assert queue(client, components(1)).status_code == 202

    refused = queue(client, components(1))

    assert refused.status_code == 429 and refused.json()["code"] == "too_many_jobs"
    assert "3 imports queued or running" in refused.json()["detail"]
    assert queue(api_as(bob), components(1)).status_code == 202  # per importer
    backstage_jobs.import_run(ImportJob.objects.filter(created_by=alice).first().pk)
    assert queue(client, components(1)).status_code == 202
