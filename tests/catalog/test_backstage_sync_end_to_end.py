"""A sync source through every part at once: the scheduled pull from a real HTTP server,
Location targets and a relative ``$text``, the import job, relations, the sync rules on the
next pull, the missing flag and the sunset case it leads to; and an uploaded background
import whose definition sits on an allowed host."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
import yaml
from django.utils import timezone

from catalog.backstage import jobs as backstage_jobs
from catalog.backstage.sources import propose_missing_retirements, sync_source
from catalog.models import BackstageEntity, BackstageSource, MicroApp, SyncStatus
from lifecycle.models import SunsetCase
from tests.catalog.backstage_http import DATA, catalog_server
from tests.factories import MicroAppFactory, TeamFactory

pytestmark = pytest.mark.django_db

COMPONENTS = "/fixture/components.yaml"
OPENAPI_TITLE = yaml.safe_load((DATA / "sync-fixture" / "apis" / "openapi.yaml").read_text())[
    "info"
]["title"]


@pytest.fixture
def server(settings, monkeypatch):
    settings.APPKEEPER_BACKSTAGE_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.APPKEEPER_BACKSTAGE_ALLOW_PRIVATE = True
    monkeypatch.setattr(backstage_jobs, "enqueue", lambda job_id: None)  # run by hand
    with catalog_server() as served:
        yield served


@pytest.fixture
def support_team(db):
    return TeamFactory(slug="support-tools", name="Support tools")


def pull(source: BackstageSource) -> None:
    """One run ("Sync now": whatever the interval), then the job it queued, to the end."""
    assert sync_source(source.pk, force=True) == SyncStatus.OK
    source.refresh_from_db()
    assert backstage_jobs.import_run(source.last_job_id) == "done"


def component_file(served, **spec) -> None:
    doc = yaml.safe_load(served.files[COMPONENTS].decode().split("\n---\n")[0])
    doc["spec"].update(spec)
    served.files[COMPONENTS] = yaml.safe_dump(doc).encode()


def test_a_source_syncs_follows_the_file_and_flags_what_it_drops(server, pat, support_team):
    billing = MicroAppFactory(slug="billing", team=support_team)
    source = BackstageSource.objects.create(
        name="fixture", url=server.url("fixture/root.yaml"), created_by=pat
    )

    pull(source)
    app = MicroApp.objects.get(slug="petstore")
    assert app.team == support_team and app.owner is None  # the team owns it, not pat
    contract = app.contracts.get()
    assert contract.kind == "openapi"
    assert contract.document["info"]["title"] == OPENAPI_TITLE
    entity = BackstageEntity.objects.get(ref="component:default/petstore")
    assert entity.source == source and entity.location == server.url("fixture/components.yaml")

    # Set in Appkeeper: kept by every later pull.
    app.sla_support_hours = "24x7"
    app.save()
    component_file(server, dependsOn=["component:billing"])
    pull(source)
    app.refresh_from_db()
    assert list(app.depends_on.all()) == [billing]
    assert app.sla_support_hours == "24x7"

    component_file(server, dependsOn=[])
    pull(source)
    assert not app.depends_on.exists()  # removed from the file, removed here

    MicroApp.objects.filter(pk=app.pk).update(state="active")
    server.files[COMPONENTS] = b"apiVersion: backstage.io/v1alpha1\nkind: Location\n" + (
        b"metadata: {name: nested}\nspec: {type: url, target: ./apis/petstore-api.yaml}\n"
    )
    pull(source)
    entity.refresh_from_db()
    assert entity.missing_since is not None
    assert MicroApp.objects.get(pk=app.pk).state == "active"  # flagged, never deleted

    later = timezone.now() + timedelta(days=15)
    with time_machine.travel(later, tick=False):
        assert propose_missing_retirements() == 1
        assert propose_missing_retirements() == 0  # once per disappearance
    assert SunsetCase.objects.filter(app=app).count() == 1


def test_an_uploaded_background_import_fetches_definitions_on_allowed_hosts(
    server, api_as, pat, support_team
):
    text = f"""
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{name: store}}
spec: {{type: service, lifecycle: experimental, owner: support-tools, providesApis: [store]}}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {{name: store}}
spec:
  type: openapi
  lifecycle: experimental
  owner: support-tools
  definition: {{$text: "{server.url("fixture/apis/openapi.yaml")}"}}
"""
    response = api_as(pat).post(
        "/api/v1/apps/import/?background=true", data=text, content_type="application/yaml"
    )
    assert response.status_code == 202, response.content

    assert backstage_jobs.import_run(response.json()["id"]) == "done"
    contract = MicroApp.objects.get(slug="store").contracts.get()
    assert contract.document["info"]["title"] == OPENAPI_TITLE


def test_backstages_example_catalog_syncs_from_a_location(server, pat):
    # A root Location naming every example file, as a Backstage app's own root catalog
    # does (all.yaml names files the examples do not ship).
    files = sorted(
        path.name
        for path in (DATA / "backstage-examples").glob("*.yaml")
        if path.name != "all.yaml"
    )
    root = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {"name": "examples-root"},
        "spec": {"targets": [f"./examples/{name}" for name in files]},
    }
    server.files["/examples-root.yaml"] = yaml.safe_dump(root).encode()
    source = BackstageSource.objects.create(
        name="examples", url=server.url("examples-root.yaml"), created_by=pat
    )

    pull(source)

    job = source.last_job
    job.refresh_from_db()
    failed = [line["ref"] for line in job.report["entities"] if line["action"] == "error"]
    assert failed == ["component:default/invalid component"]  # Backstage refuses it too
    assert MicroApp.objects.filter(backstage_entity__source=source).count() == 8
    assert not BackstageEntity.objects.filter(source=source, missing_since__isnull=False)
    # Every file's entities keep the file they came from.
    lookup = BackstageEntity.objects.get(ref="component:default/artist-lookup")
    assert lookup.location == server.url("examples/artist-lookup-component.yaml")
