"""Backstage catalog-info.yaml import and export, with the descriptors in tests/data."""

from __future__ import annotations

import pytest
import yaml

from catalog.models import AuditEvent, BackstageEntity, Contract, MicroApp
from tests.contracts.helpers import BACKSTAGE
from tests.contracts.test_documents import BILLION_LAUGHS as DOCUMENT_BOMB
from tests.factories import MicroAppFactory, TeamFactory

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/apps/import/"


def corpus(name: str) -> str:
    return (BACKSTAGE / name).read_text()


def post_yaml(client, text: str, **params):
    query = "?dry_run=true" if params.get("dry_run") else ""
    return client.post(f"{IMPORT}{query}", data=text, content_type="application/yaml")


@pytest.fixture
def sre(pat):
    # The lead becomes the personal owner of the apps the team owns in Backstage.
    team = TeamFactory(slug="sre", name="SRE", lead=pat)
    team.members.add(pat)
    return team


def test_petstore_component_and_inline_api_become_an_app_and_a_contract(api_as, pat, sre):
    response = post_yaml(api_as(pat), corpus("backstage-petstore.yaml"))

    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    app = MicroApp.objects.get(slug="petstore")
    assert app.team == sre
    # Production needs an SLA, which Backstage does not describe: staging, with a warning.
    assert app.environment == "staging"
    assert app.repository_url == "https://github.com/swagger-api/swagger-petstore"
    assert app.state == "draft"
    assert app.owner == pat  # the team's lead, as the group owns it
    assert app.backstage_entity.ref == "component:default/petstore"
    actions = {(e["kind"], e["name"]): e["action"] for e in response.json()["entities"]}
    assert actions[("Component", "petstore")] == "created"
    assert actions[("API", "petstore")] == "created"
    assert AuditEvent.objects.filter(app=app, action="created").exists()


def test_dry_run_reports_without_writing(api_as, pat, sre):
    response = post_yaml(api_as(pat), corpus("backstage-petstore.yaml"), dry_run=True)

    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True and body["ok"] is True and body["written"] is False
    assert body["summary"]["created"] == 2
    assert not MicroApp.objects.exists() and not Contract.objects.exists()


def test_missing_owner_is_reported_per_entity_and_nothing_is_written(api_as, pat, sre):
    response = post_yaml(api_as(pat), corpus("roadie-noowner.yaml"))

    assert response.status_code == 400
    entity = response.json()["entities"][0]
    assert entity["name"] == "tags-test" and entity["action"] == "error"
    assert entity["errors"][0]["field"] == "spec.owner"
    assert not MicroApp.objects.exists()


def test_broken_file_reports_owner_and_dangling_references(api_as, pat, sre):
    response = post_yaml(api_as(pat), corpus("roadie-broken.yaml"))
    assert response.status_code == 400
    entity = response.json()["entities"][0]
    assert any("owner" in e["message"].lower() for e in entity["errors"])


def test_unknown_owner_and_url_definitions_are_reported_not_fetched(api_as, alice):
    # A team of the same name is not the group of another namespace.
    TeamFactory(slug="marketing", lead=alice).members.add(alice)
    response = post_yaml(api_as(alice), corpus("roadie-sample-service.yaml"))

    body = response.json()
    assert response.status_code == 400
    by_name = {(e["kind"], e["name"]): e for e in body["entities"]}
    assert by_name[("Component", "sample-service")]["errors"][0] == {
        "field": "spec.owner",
        "message": "Unknown owner group:roadiehq/engineering: import its Group entity first "
        "or in the same batch.",
    }
    assert by_name[("Component", "sentry-js")]["action"] == "error"
    skipped = by_name[("API", "open-api-ref-sample")]
    assert skipped["action"] == "skipped"
    assert "placeholder ($text: " in skipped["warnings"][0]
    assert "sync source" in skipped["warnings"][0]
    # Kinds that are not mapped are kept, listed as skipped and counted by kind.
    assert by_name[("Resource", "sample-s3-bucket")]["action"] == "skipped"
    assert body["skipped_kinds"] == {"Domain": 1, "Resource": 1, "System": 1}
    assert not MicroApp.objects.exists() and not BackstageEntity.objects.exists()


def test_sample_service_imports_once_its_groups_are_teams(api_as, pat):
    for slug in ("engineering", "marketing"):
        team = TeamFactory(slug=slug, lead=pat)
        team.members.add(pat)
        BackstageEntity.objects.create(
            ref=f"group:roadiehq/{slug}", kind="group", namespace="roadiehq", name=slug, team=team
        )
    response = post_yaml(api_as(pat), corpus("roadie-sample-service.yaml"))
    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    app = MicroApp.objects.get(slug="sample-service")
    assert app.team.slug == "engineering" and app.owner == pat
    assert set(app.tags) >= {"test", "js"}
    # Nothing Backstage knows is lost: every entity is kept by its full reference.
    assert BackstageEntity.objects.filter(namespace="default").count() == 7


def test_import_cannot_take_over_another_teams_app(api_as, alice, pat, sre, support_tools):
    MicroAppFactory(slug="petstore", team=sre, owner=pat, state="active")
    response = post_yaml(api_as(alice), corpus("backstage-petstore.yaml"))
    assert response.status_code == 400
    assert MicroApp.objects.get(slug="petstore").team == sre


def test_aliases_and_garbage_are_400(api_as, pat):
    client = api_as(pat)
    bomb = post_yaml(client, "kind: A\n" + DOCUMENT_BOMB)
    assert bomb.status_code == 400 and "anchors and aliases expand" in str(bomb.json())
    assert post_yaml(client, "a: &x [1]\nb: *x\n").status_code == 400  # no kind
    assert post_yaml(client, "kind: [unclosed\n").status_code == 400
    assert post_yaml(client, "").status_code == 400


def test_export_round_trip_keeps_the_fields(api_as, pat, alice, support_tools, regions):
    client = api_as(alice)
    created = client.post(
        "/api/v1/apps/",
        {
            "slug": "ticket-router",
            "name": "Ticket Router",
            "description": "Routes tickets.",
            "kind": "integration",
            "team": "support-tools",
            "environment": "production",
            "criticality": "critical",
            "handles_pii": True,
            "data_residency": "EU",
            "regions": ["eu-central"],
            "tags": ["tickets"],
            "runtime": "k8s",
            "sla_availability": "99.9",
            "sla_p95_ms": 250,
            "sla_support_hours": "24x7",
            "docs_url": "https://docs.example.com/tr",
            "runbook_url": "https://rb.example.com/tr",
            "repository_url": "https://git.example.com/tr",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "TR", "version": "1.2.0"},
        "paths": {"/t": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    client.post("/api/v1/apps/ticket-router/contracts/", {"spec": spec}, format="json")
    before = client.get("/api/v1/apps/ticket-router/").json()

    exported = client.get("/api/v1/apps/ticket-router/catalog-info.yaml")
    assert exported["Content-Type"] == "application/yaml"
    docs = list(yaml.safe_load_all(exported.content))
    assert [d["kind"] for d in docs] == ["Component", "API"]

    # Re-import into a fresh catalog: the same fields come back.
    MicroApp.objects.filter(slug="ticket-router").update(slug="ticket-router-old")
    response = post_yaml(client, exported.content.decode())
    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    after = client.get("/api/v1/apps/ticket-router/").json()
    keep = [
        "name",
        "description",
        "kind",
        "team",
        "owner",
        "environment",
        "criticality",
        "handles_pii",
        "data_residency",
        "regions",
        "tags",
        "runtime",
        "sla_availability",
        "sla_p95_ms",
        "sla_support_hours",
        "docs_url",
        "runbook_url",
        "repository_url",
    ]
    assert {k: after[k] for k in keep} == {k: before[k] for k in keep}


PLAIN_COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: pure-router
  title: Pure Router
  description: Routes tickets without libyaml.
  tags: [routing]
spec:
  type: service
  lifecycle: experimental
  owner: group:default/sre
"""


def test_an_entity_reusing_a_block_through_an_alias_imports(api_as, pat, sre):
    aliased = PLAIN_COMPONENT.replace("  tags: [routing]\n", "  tags: &tags [routing]\n")
    aliased = aliased.replace("spec:\n", "  labels: {area: routing}\n  x-tags: *tags\nspec:\n")
    response = post_yaml(api_as(pat), aliased)
    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    assert MicroApp.objects.get(slug="pure-router").team == sre


def test_import_works_with_the_pure_python_yaml_parser(api_as, pat, sre, monkeypatch):
    """PyYAML built without libyaml has no CSafeLoader: the import takes the same safe
    loader's pure-Python path, alias bombs still refused."""
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    loaders = []
    parse = yaml.parse
    monkeypatch.setattr(
        yaml, "parse", lambda text, Loader: loaders.append(Loader) or parse(text, Loader)
    )
    client = api_as(pat)

    response = post_yaml(client, "---\n" + PLAIN_COMPONENT + "---\n")

    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    assert MicroApp.objects.get(slug="pure-router").team == sre
    assert loaders == [yaml.SafeLoader]
    refused = post_yaml(client, "kind: A\n" + DOCUMENT_BOMB)
    assert refused.status_code == 400 and "anchors and aliases expand" in str(refused.json())


def test_owner_and_co_owners_travel_as_annotations_and_come_back(api_as, alice, support_tools):
    from tests.factories import UserFactory

    dana, eve = UserFactory(username="dana"), UserFactory(username="eve")
    app = MicroAppFactory(slug="router", name="Router", team=support_tools, owner=alice)
    app.co_owners.add(dana, eve)
    client = api_as(alice)

    exported = client.get("/api/v1/apps/router/catalog-info.yaml").content.decode()
    component = next(yaml.safe_load_all(exported))
    annotations = component["metadata"]["annotations"]
    assert component["spec"]["owner"] == "support-tools"  # a group, as spec.owner defaults to
    assert annotations["appkeeper.io/owner"] == "user:alice"
    assert annotations["appkeeper.io/co-owners"] == "user:dana,user:eve"

    MicroApp.objects.filter(slug="router").update(slug="router-old")
    eve.is_active = False
    eve.save()  # a co-owner who left since the export is left out, with a warning
    response = post_yaml(client, exported)

    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    again = MicroApp.objects.get(slug="router")
    assert again.owner == alice
    assert [p.username for p in again.co_owners.all()] == ["dana"]
    warnings = [w for e in response.json()["entities"] for w in e["warnings"]]
    assert any("eve" in w and "left out" in w for w in warnings)


def test_a_bare_owner_annotation_from_older_exports_still_imports(api_as, alice, support_tools):
    text = yaml.safe_dump(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "older", "annotations": {"appkeeper.io/owner": "alice"}},
            "spec": {"type": "service", "lifecycle": "experimental", "owner": "support-tools"},
        }
    )

    response = post_yaml(api_as(alice), text)

    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    assert MicroApp.objects.get(slug="older").owner == alice
