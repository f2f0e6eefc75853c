"""Re-importing is a sync: what Backstage describes follows the file, what Appkeeper owns
stays; identity by full reference; owners from the group's team, never the importer."""

from __future__ import annotations

import pytest
import yaml

from catalog.backstage import jobs as backstage_jobs
from catalog.models import AuditEvent, BackstageEntity, ImportJob, MicroApp, Team
from tests.catalog.backstage_support import post_yaml
from tests.factories import MicroAppFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def entity(name: str, *, namespace: str = "", owner: str = "group:default/sre", **spec) -> dict:
    metadata: dict = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": metadata,
        "spec": {"type": "service", "lifecycle": "experimental", "owner": owner, **spec},
    }


def text(*docs: dict) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


@pytest.fixture
def lead(db):
    return UserFactory(username="lead")


@pytest.fixture
def sre(lead, alice):
    team = TeamFactory(slug="sre", name="SRE", lead=lead)
    team.members.add(lead, alice)
    return team


def test_the_same_name_in_two_namespaces_is_two_apps(api_as, pat, sre):
    MicroAppFactory(slug="payments-billing", team=sre)  # taken by an app Appkeeper registered
    docs = [entity("billing", namespace=ns) for ns in ("finance", "payments", "default")]

    response = post_yaml(api_as(pat), text(*docs))

    assert response.status_code == 201, response.json()
    refs = dict(BackstageEntity.objects.values_list("ref", "app__slug"))
    assert refs == {
        "component:finance/billing": "finance-billing",
        "component:payments/billing": "payments-billing-2",
        "component:default/billing": "billing",
    }
    # Again: each finds its own app by its reference, nothing new.
    again = post_yaml(api_as(pat), text(*docs))
    assert [e["action"] for e in again.json()["entities"]] == ["unchanged"] * 3
    assert MicroApp.objects.count() == 4


def test_an_unchanged_file_writes_nothing(api_as, alice, sre):
    client = api_as(alice)
    doc = entity("router", links=None)
    doc["spec"].pop("links")
    assert post_yaml(client, text(doc)).status_code == 201
    app = MicroApp.objects.get(slug="router")
    events, stamp = AuditEvent.objects.count(), app.updated_at

    response = post_yaml(client, text(doc))

    assert response.status_code == 201
    assert response.json()["summary"] == {"unchanged": 1}
    assert response.json()["entities"][0]["ref"] == "component:default/router"
    app.refresh_from_db()
    assert (AuditEvent.objects.count(), app.updated_at) == (events, stamp)


def test_production_and_sla_set_in_appkeeper_survive_a_reimport(api_as, alice, sre):
    client = api_as(alice)
    doc = entity("router", lifecycle="production")
    first = post_yaml(client, text(doc))
    assert "registered as staging" in first.json()["entities"][0]["warnings"][0]
    patched = client.patch(
        "/api/v1/apps/router/",
        {
            "environment": "production",
            "sla_availability": "99.9",
            "sla_p95_ms": 300,
            "sla_support_hours": "24x7",
        },
        format="json",
    )
    assert patched.status_code == 200, patched.json()

    response = post_yaml(client, text(doc))

    assert response.status_code == 201
    line = response.json()["entities"][0]
    assert (line["action"], line["warnings"]) == ("unchanged", [])
    app = MicroApp.objects.get(slug="router")
    assert (app.environment, str(app.sla_availability), app.sla_p95_ms) == (
        "production",
        "99.900",
        300,
    )


def test_what_backstage_describes_follows_the_file(api_as, alice, sre):
    client = api_as(alice)
    doc = entity("router")
    doc["metadata"]["links"] = [
        {"url": "https://rb.example.com/router", "title": "Runbook"},
        {"url": "https://docs.example.com/router", "title": "Docs"},
    ]
    doc["metadata"]["tags"] = ["python3.11", "Routing"]
    assert post_yaml(client, text(doc)).status_code == 201
    app = MicroApp.objects.get(slug="router")
    assert app.tags == ["python3-11", "routing"]
    client.patch("/api/v1/apps/router/", {"docs_url": "https://wiki.example.com/r"}, format="json")

    doc["metadata"]["links"] = []
    doc["metadata"]["description"] = "Routes."
    response = post_yaml(client, text(doc))

    assert response.json()["entities"][0]["action"] == "updated"
    app.refresh_from_db()
    assert app.runbook_url == ""  # removed from the file
    assert app.docs_url == "https://wiki.example.com/r"  # set in Appkeeper: kept
    assert app.description == "Routes."


def test_deprecated_is_a_flag_with_its_warning(api_as, alice, sre):
    response = post_yaml(api_as(alice), text(entity("old", lifecycle="deprecated")))

    assert response.status_code == 201
    warnings = response.json()["entities"][0]["warnings"]
    assert "deprecated in Backstage: plan its retirement" in warnings
    assert any("registered as staging" in w for w in warnings)
    app = MicroApp.objects.get(slug="old")
    assert app.deprecated and app.environment == "staging" and app.state == "draft"


def test_annotations_fill_the_repository_and_docs_links(api_as, alice, sre):
    doc = entity("router", type="website")
    doc["metadata"]["annotations"] = {
        "github.com/project-slug": "acme/router",
        "backstage.io/techdocs-ref": "url:https://docs.example.com/router",
        "example.com/other": "kept",
    }
    assert post_yaml(api_as(alice), text(doc)).status_code == 201
    app = MicroApp.objects.get(slug="router")
    assert app.repository_url == "https://github.com/acme/router"
    assert app.docs_url == "https://docs.example.com/router"
    assert app.kind == "ui"
    kept = app.backstage_entity.document["metadata"]["annotations"]
    assert kept["example.com/other"] == "kept"


def test_the_owner_is_the_teams_lead_never_the_importer(api_as, pat, lead, sre):
    assert post_yaml(api_as(pat), text(entity("router"))).status_code == 201
    assert MicroApp.objects.get(slug="router").owner == lead


def test_a_team_without_a_lead_owns_the_app_itself(api_as, pat):
    TeamFactory(slug="sre", name="SRE")
    response = post_yaml(api_as(pat), text(entity("router")))
    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    assert MicroApp.objects.get(slug="router").owner is None


def test_an_owner_takes_the_namespace_of_its_entity(api_as, alice, sre):
    response = post_yaml(api_as(alice), text(entity("billing", namespace="finance", owner="sre")))
    assert response.json()["entities"][0]["errors"][0]["message"].startswith(
        "Unknown owner group:finance/sre:"
    )


def test_an_unknown_group_is_made_a_team_for_the_platform_team_only(api_as, pat, alice):
    refused = post_yaml(api_as(alice), text(entity("router", owner="group:ops/night-shift")))
    assert refused.status_code == 400
    assert refused.json()["entities"][0]["errors"] == [
        {
            "field": "spec.owner",
            "message": "Unknown owner group:ops/night-shift: import its Group entity first or "
            "in the same batch.",
        }
    ]
    assert not Team.objects.filter(slug="ops-night-shift").exists()

    # The platform team may: the team is made from the reference, with a warning.
    response = post_yaml(api_as(pat), text(entity("router", owner="group:ops/night-shift")))
    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    warnings = response.json()["entities"][0]["warnings"]
    assert any("group:ops/night-shift was not imported" in w for w in warnings)
    assert Team.objects.filter(slug="ops-night-shift").exists()


def test_a_default_namespace_component_adopts_an_app_it_may_edit(api_as, alice, sre, lead):
    app = MicroAppFactory(
        slug="router",
        team=sre,
        owner=alice,
        environment="production",
        sla_availability="99.9",
        sla_p95_ms=200,
        sla_support_hours="24x7",
    )
    response = post_yaml(api_as(alice), text(entity("router", lifecycle="production")))

    assert response.status_code == 201, response.json()["entities"][0]["errors"]
    app.refresh_from_db()
    assert app.backstage_entity.ref == "component:default/router"
    # Registered in Appkeeper: its environment and owner stay.
    assert (app.environment, app.owner) == ("production", alice)


def test_a_slug_held_by_another_entity_is_refused(api_as, pat, sre):
    post_yaml(api_as(pat), text(entity("router", namespace="edge")))
    MicroApp.objects.filter(slug="edge-router").update(slug="router")

    response = post_yaml(api_as(pat), text(entity("router")))

    assert response.status_code == 400
    assert response.json()["entities"][0]["errors"][0]["field"] == "metadata.name"


@pytest.mark.parametrize("existing", [5, 40])
def test_a_job_chunk_costs_the_same_whatever_the_catalog_holds(
    existing, api_as, alice, sre, django_assert_max_num_queries
):
    for i in range(existing):
        MicroAppFactory(slug=f"other-{i}", team=sre)
    docs = [entity(f"svc-{i}", dependsOn=["component:svc-0"]) for i in range(10)]
    job = backstage_jobs.import_start(user=alice, text=text(*docs), dry_run=False)

    # About 40 a Component: keeping the entity (5), the app through the API's own
    # serializer and services (~20), its relations (7) and the job's savepoints.
    with django_assert_max_num_queries(10 * 42 + 10):
        assert backstage_jobs.import_chunk(job.pk)[0] == "done"
    assert ImportJob.objects.get(pk=job.pk).created == 10


ROUTER_OPENAPI = "openapi: 3.0.3\ninfo: {title: Router, version: '1'}\npaths: {}\n"


def test_a_job_uses_what_was_fetched_beside_each_entity(alice, sre):
    component = entity("router")
    component["metadata"]["annotations"] = {"backstage.io/techdocs-ref": "dir:./docs"}
    api = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": "router-api"},
        "spec": {
            "type": "openapi",
            "lifecycle": "experimental",
            "owner": "group:default/sre",
            "definition": {"$text": "./openapi.yaml"},
        },
    }
    broken = {**api, "metadata": {"name": "broken-api"}}
    job = backstage_jobs.import_start(user=alice, text=text(component, api, broken), dry_run=False)
    location = "https://git.example.com/acme/router/catalog-info.yaml"
    job.resolved = {
        "0": {"location": location},
        "1": {"location": location, "definition": ROUTER_OPENAPI},
        "2": {"location": location, "error": "404 from git.example.com"},
    }
    job.save(update_fields=["resolved"])

    assert backstage_jobs.import_run(job.pk) == "done"

    lines = {line["ref"]: line for line in ImportJob.objects.get(pk=job.pk).report["entities"]}
    assert lines["api:default/router-api"]["action"] == "created"
    assert lines["api:default/broken-api"]["action"] == "skipped"
    assert "404 from git.example.com" in lines["api:default/broken-api"]["warnings"][0]
    stored = BackstageEntity.objects.get(ref="api:default/router-api")
    assert (stored.definition, stored.location) == (ROUTER_OPENAPI, location)
    app = MicroApp.objects.get(slug="router")
    assert app.docs_url == "https://git.example.com/acme/router/docs"
