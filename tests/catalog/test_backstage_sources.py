"""Sync sources against a real HTTP server: what is fetched, from where, with what, and
what a run records. The server is on 127.0.0.1, so private addresses are allowed here
except where a test is about refusing them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
import yaml
from django.utils import timezone

from catalog.backstage.fetch import FetchError, fetch
from catalog.backstage.locations import CollectError, collect
from catalog.backstage.sources import prepare_upload, sync_due, sync_source
from catalog.models import BackstageEntity, BackstageSource, ImportJob, SyncStatus
from tests.catalog.backstage_http import DATA, catalog_server

pytestmark = pytest.mark.django_db

OPENAPI = (DATA / "sync-fixture" / "apis" / "openapi.yaml").read_text()


@pytest.fixture
def server(settings):
    settings.APPKEEPER_BACKSTAGE_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.APPKEEPER_BACKSTAGE_ALLOW_PRIVATE = True
    with catalog_server() as served:
        yield served


def make_source(user, url: str, **fields) -> BackstageSource:
    return BackstageSource.objects.create(
        name=fields.pop("name", "main"), url=url, created_by=user, **fields
    )


def test_locations_are_followed_breadth_first_once_each_and_definitions_resolved(server):
    got = collect(server.url("fixture/root.yaml"))

    assert got is not None
    kinds = [(d["kind"], d["metadata"]["name"]) for d in got.docs]
    # The Location entities stay in the output: nothing read is lost.
    assert kinds == [
        ("Location", "sync-fixture"),
        ("Component", "petstore"),
        ("Location", "nested"),
        ("API", "petstore"),
    ]
    # root, components, the API file (named twice, read once), the definition.
    assert got.files == 4
    assert [p for p, _ in server.requests].count("/fixture/apis/petstore-api.yaml") == 1
    # Every entity's file; the API's definition read relative to its own file.
    assert got.resolved["1"] == {"location": server.url("fixture/components.yaml")}
    assert got.resolved["3"] == {
        "location": server.url("fixture/apis/petstore-api.yaml"),
        "definition": OPENAPI,
    }
    assert got.locations[3] == server.url("fixture/apis/petstore-api.yaml")
    # A glob cannot be listed over HTTP: reported, the other targets still read.
    assert len(got.warnings) == 1 and "./more/*.yaml is a glob" in got.warnings[0]
    assert got.has_locations


def test_json_and_yaml_placeholders_and_a_definition_that_cannot_be_read(server):
    api = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "spec": {"type": "openapi", "lifecycle": "production", "owner": "x"},
    }
    docs = [
        {
            **api,
            "metadata": {"name": "as-json"},
            "spec": {**api["spec"], "definition": {"$json": "./d.json"}},
        },
        {
            **api,
            "metadata": {"name": "as-yaml"},
            "spec": {**api["spec"], "definition": {"$yaml": "./apis/openapi.yaml"}},
        },
        {
            **api,
            "metadata": {"name": "gone"},
            "spec": {**api["spec"], "definition": {"$text": "./nope.yaml"}},
        },
    ]
    server.files["/fixture/multi.yaml"] = yaml.safe_dump_all(docs).encode()
    server.files["/fixture/d.json"] = b'{"openapi": "3.0.0", "info": {"title": "J"}}'

    got = collect(server.url("fixture/multi.yaml"))

    assert got is not None
    assert (
        got.resolved["0"]["definition"]
        == '{\n  "openapi": "3.0.0",\n  "info": {\n    "title": "J"\n  }\n}'
    )
    assert got.resolved["1"]["definition"] == OPENAPI
    assert got.resolved["2"] == {
        "location": got.locations[2],
        "error": f"{server.url('fixture/nope.yaml')} answered HTTP 404.",
    }


def test_a_sync_queues_the_import_of_everything_read(
    server, pat, django_capture_on_commit_callbacks
):
    source = make_source(pat, server.url("fixture/root.yaml"), token="s3cret")

    with django_capture_on_commit_callbacks(execute=False):
        assert sync_source(source.pk) == SyncStatus.OK

    source.refresh_from_db()
    job = source.last_job
    assert job is not None and job.source_id == source.pk and job.created_by_id == pat.pk
    assert not job.dry_run and job.total == 4
    assert [d["kind"] for d in yaml.safe_load_all(job.document)] == [
        "Location",
        "Component",
        "Location",
        "API",
    ]
    assert job.resolved["3"]["definition"] == OPENAPI
    assert (source.last_status, source.last_files, source.last_entities) == ("ok", 4, 4)
    assert "glob" in source.last_error
    # A root of Locations says nothing of its targets by its ETag: read whole next time.
    assert source.etag == ""
    assert source.last_checked_at is not None


def test_an_unchanged_root_answers_304_and_queues_nothing(
    server, pat, django_capture_on_commit_callbacks
):
    source = make_source(pat, server.url("examples/root-catalog-info.yaml"))
    with django_capture_on_commit_callbacks(execute=False):
        assert sync_source(source.pk) == SyncStatus.OK
    source.refresh_from_db()
    assert source.etag.startswith('"')
    first_job = source.last_job_id
    ImportJob.objects.filter(pk=first_job).update(state="succeeded")  # the engine's part

    assert sync_source(source.pk, force=True) == SyncStatus.UNCHANGED

    source.refresh_from_db()
    assert source.last_status == SyncStatus.UNCHANGED and source.last_job_id == first_job
    assert ImportJob.objects.count() == 1
    sent = server.headers_for("/examples/root-catalog-info.yaml")
    assert "if-none-match" not in sent[0] and sent[1]["if-none-match"] == source.etag


def test_a_redirect_is_followed_on_the_same_host_and_refused_to_another(server, settings):
    server.routes["/same"] = (302, {"Location": "/examples/all.yaml"}, b"")
    server.routes["/away"] = (302, {"Location": server.url("examples/all.yaml", "localhost")}, b"")

    assert fetch(server.url("same")).text.startswith("apiVersion")
    with pytest.raises(FetchError, match="redirected to .*localhost is not an allowed host"):
        fetch(server.url("away"))
    assert server.headers_for("/examples/all.yaml") == server.headers_for("/examples/all.yaml")[:1]


def test_endless_redirects_stop(server):
    server.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    with pytest.raises(FetchError, match="redirected more than 5 times"):
        fetch(server.url("loop"))


def test_a_private_address_is_refused_unless_allowed(server, settings):
    settings.APPKEEPER_BACKSTAGE_ALLOWED_HOSTS = ["localhost"]
    settings.APPKEEPER_BACKSTAGE_ALLOW_PRIVATE = False
    url = server.url("examples/all.yaml", "localhost")

    with pytest.raises(
        FetchError, match="resolves to 127.0.0.1, a private.*APPKEEPER_BACKSTAGE_ALLOW_PRIVATE"
    ):
        fetch(url)
    assert server.requests == []  # refused before connecting

    settings.APPKEEPER_BACKSTAGE_ALLOW_PRIVATE = True
    assert fetch(url).status == 200
    # Connected to the checked address, the name kept for the server.
    assert server.requests[0][1]["host"] == f"localhost:{server.port}"


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x", "http://example.com/x"]
)
def test_other_schemes_credentials_and_hosts_are_refused(server, url):
    with pytest.raises(FetchError):
        fetch(url)


def test_the_size_cap_applies_while_streaming(server, settings):
    settings.APPKEEPER_BACKSTAGE_FETCH_MAX_BYTES = 1024
    server.routes["/big"] = (200, {}, b"a" * 5000)
    server.routes["/unsized"] = (200, {"X-Unsized": "1"}, b"a" * 5000)
    server.routes["/fits"] = (200, {"X-Unsized": "1"}, b"a" * 1024)

    with pytest.raises(FetchError, match="5000 bytes, over the 1024-byte limit"):
        fetch(server.url("big"))
    with pytest.raises(FetchError, match="over the 1024-byte limit; not read"):
        fetch(server.url("unsized"))
    assert len(fetch(server.url("fits")).text) == 1024


def test_the_token_goes_to_the_source_host_only(server, settings, pat):
    settings.APPKEEPER_BACKSTAGE_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    elsewhere = server.url("fixture/apis/openapi.yaml", "localhost")
    api = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": "petstore"},
        "spec": {
            "type": "openapi",
            "lifecycle": "production",
            "owner": "x",
            "definition": {"$text": elsewhere},
        },
    }
    server.files["/fixture/abs.yaml"] = yaml.safe_dump(api).encode()
    server.routes["/hop"] = (302, {"Location": elsewhere}, b"")

    got = collect(server.url("fixture/abs.yaml"), token="s3cret")
    fetch(server.url("hop"), token="s3cret", token_host="127.0.0.1")

    assert got is not None and got.resolved["0"]["definition"] == OPENAPI
    assert server.headers_for("/fixture/abs.yaml")[0]["authorization"] == "Bearer s3cret"
    assert server.headers_for("/hop")[0]["authorization"] == "Bearer s3cret"
    assert all("authorization" not in h for h in server.headers_for("/fixture/apis/openapi.yaml"))


def test_a_failed_fetch_is_recorded_and_flags_nothing(server, pat):
    source = make_source(pat, server.url("fixture/missing.yaml"))
    entity = BackstageEntity.objects.create(
        ref="component:default/a", kind="component", name="a", source=source
    )

    assert sync_source(source.pk) == SyncStatus.FAILED

    source.refresh_from_db()
    entity.refresh_from_db()
    assert source.last_status == SyncStatus.FAILED
    assert source.last_error == f"{server.url('fixture/missing.yaml')} answered HTTP 404."
    assert source.last_job is None and ImportJob.objects.count() == 0
    assert entity.missing_since is None


def test_a_target_that_cannot_be_read_fails_the_whole_run(server, pat):
    # all.yaml names six files the example catalog does not hold.
    with pytest.raises(CollectError, match="all-apis.yaml answered HTTP 404"):
        collect(server.url("examples/all.yaml"))


def test_the_file_budget_caps_a_run(server, settings):
    settings.APPKEEPER_BACKSTAGE_FETCH_MAX_FILES = 2
    with pytest.raises(CollectError, match="at most 2 files"):
        collect(server.url("fixture/root.yaml"))


def test_only_due_enabled_sources_run_and_a_claimed_one_is_skipped(server, pat):
    now = timezone.now()
    due = make_source(
        pat,
        server.url("fixture/missing.yaml"),
        name="due",
        last_checked_at=now - timedelta(hours=2),
    )
    recent = make_source(
        pat,
        server.url("fixture/missing.yaml"),
        name="recent",
        last_checked_at=now - timedelta(minutes=5),
    )
    paused = make_source(pat, server.url("fixture/missing.yaml"), name="paused", enabled=False)
    retired = make_source(pat, server.url("fixture/missing.yaml"), name="retired", retired_at=now)

    assert sync_due(now=now) == {"failed": 1, "skipped": 1}  # paused and retired: not listed

    for source in (due, recent, paused, retired):
        source.refresh_from_db()
    assert due.last_checked_at == now and due.last_status == SyncStatus.FAILED
    assert recent.last_status == paused.last_status == retired.last_status == SyncStatus.NEVER
    # A second run at the same moment finds it claimed (checked just now): not again.
    assert sync_source(due.pk, now=now) == "skipped"
    assert len(server.headers_for("/fixture/missing.yaml")) == 1


def test_a_source_whose_import_is_still_running_waits(server, pat):
    job = ImportJob.objects.create(created_by=pat, total=1)
    source = make_source(pat, server.url("fixture/root.yaml"), last_job=job)
    assert sync_source(source.pk, force=True) == "skipped"
    assert server.requests == []


def test_prepare_upload_resolves_absolute_definitions_on_allowed_hosts(server, pat):
    api = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "spec": {"type": "openapi", "lifecycle": "production", "owner": "x"},
    }
    docs = [
        {
            **api,
            "metadata": {"name": "near"},
            "spec": {
                **api["spec"],
                "definition": {"$text": server.url("fixture/apis/openapi.yaml")},
            },
        },
        {
            **api,
            "metadata": {"name": "relative"},
            "spec": {**api["spec"], "definition": {"$text": "./openapi.yaml"}},
        },
        {
            **api,
            "metadata": {"name": "far"},
            "spec": {**api["spec"], "definition": {"$text": "https://example.com/x.yaml"}},
        },
    ]
    job = ImportJob.objects.create(created_by=pat, document=yaml.safe_dump_all(docs), total=3)

    assert prepare_upload(job) == 1

    job.refresh_from_db()
    assert job.resolved["0"]["definition"] == OPENAPI
    assert "1" not in job.resolved  # relative to nothing: the engine reports it
    assert "example.com is not an allowed host" in job.resolved["2"]["error"]


def test_a_run_long_after_the_interval_is_due_again(server, pat):
    source = make_source(pat, server.url("fixture/missing.yaml"), interval_minutes=60)
    with time_machine.travel(timezone.now(), tick=False):
        assert sync_source(source.pk) == SyncStatus.FAILED
        assert sync_source(source.pk) == "skipped"
    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        assert sync_source(source.pk) == SyncStatus.FAILED
