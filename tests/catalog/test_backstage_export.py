"""Exports Backstage accepts: generated apps fitted to its rules, imported apps written back
whole with only Appkeeper's changes, and the whole fleet at /api/v1/backstage/entities."""

from __future__ import annotations

import json

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from catalog.backstage import names
from catalog.backstage.store import store_entity
from catalog.models import Contract, Dependency
from core import tokens
from tests.catalog.backstage_validation import backstage_rejections
from tests.factories import MicroAppFactory, TeamFactory, UserFactory

FLEET = "/api/v1/backstage/entities"
LONG_SLUG = "customer-notification-preferences-synchronisation-service-for-emea-x"


def _by_ref(entities: list[dict]) -> dict[str, dict]:
    return {
        f"{e['kind']}:{e['metadata'].get('namespace', 'default')}/{e['metadata']['name']}": e
        for e in entities
    }


@pytest.fixture
def hostile_app(support_tools, alice):
    assert len(LONG_SLUG) > 63
    app = MicroAppFactory(
        slug=LONG_SLUG,
        name="Customer notification preferences synchronisation " * 2,
        team=support_tools,
        owner=alice,
        state="active",
        environment="production",
        tags=["python3.11", "Team Ops", "a_b", "python3.11", "!!!"],
        docs_url="https://docs.example.com/x",
    )
    Contract.objects.create(
        app=app, kind="openapi", version="1.0.0", sha256="a", document={"openapi": "3.0.3"}
    )
    return app


def test_generated_names_and_tags_fit_backstage(api_as, alice, hostile_app):
    text = api_as(alice).get(f"/api/v1/apps/{LONG_SLUG}/catalog-info.yaml").content.decode()
    component, api = yaml.safe_load_all(text)

    name = component["metadata"]["name"]
    assert names.valid_name(name) and name == names.entity_name(LONG_SLUG)
    assert name.startswith(LONG_SLUG[:40]) and name != LONG_SLUG[:63]
    assert component["metadata"]["annotations"]["appkeeper.io/slug"] == LONG_SLUG
    assert component["metadata"]["tags"] == ["python3-11", "team-ops", "a-b"]
    assert names.valid_name(api["metadata"]["name"])
    assert component["spec"]["providesApis"] == [api["metadata"]["name"]]
    assert component["spec"]["owner"] == "support-tools"
    assert api["spec"]["definition"].startswith("openapi:")
    assert backstage_rejections([component, api]) == {}


def test_shortened_names_are_deterministic_and_distinct():
    first, second = names.entity_name(LONG_SLUG), names.entity_name(LONG_SLUG + "y")
    assert first == names.entity_name(LONG_SLUG)
    assert first != second and len(first) == len(second) == 63
    assert names.entity_name("ok-name") == "ok-name"
    assert names.tag("python3.11") == "python3-11" and names.valid_tag(names.tag("x" * 90))


@pytest.fixture
def imported(support_tools, alice):
    """An app as an import leaves it: linked to its stored entity, its team to its group."""
    group, _ = store_entity(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {"name": "Support-Tools", "namespace": "ops"},
            "spec": {"type": "team", "children": []},
        }
    )
    group.team = support_tools
    group.save()
    document = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "billing",
            "namespace": "finance",
            "labels": {"tier": "gold"},
            "annotations": {"github.com/project-slug": "acme/billing", "x.io/y": "z"},
            "links": [
                {"url": "https://wiki.example.com/billing", "title": "Docs", "icon": "docs"},
                {"url": "https://grafana.example.com/billing", "title": "Dashboard"},
            ],
            "tags": ["java"],
        },
        "spec": {
            "type": "batch-job",
            "lifecycle": "beta",
            "owner": "group:ops/Support-Tools",
            "system": "payments",
            "dependsOn": ["resource:billing-db"],
            "consumesApis": ["ledger-api"],
            "definition": {"$text": "./openapi.yaml"},
        },
        "x-unknown": {"kept": True},
    }
    entity, _ = store_entity(
        document, location="https://git.example.com/finance/billing/catalog-info.yaml"
    )
    app = MicroAppFactory(
        slug="finance-billing",
        name="billing",
        description="",
        team=support_tools,
        owner=alice,
        state="active",
        tags=["java"],
        docs_url="https://wiki.example.com/billing",
    )
    entity.app = app
    entity.imported = {"name": "billing", "tags": ["java"], "environment": "staging"}
    entity.save()
    return app, document


def test_an_unchanged_imported_app_goes_back_as_read(api_as, alice, imported):
    app, document = imported
    text = api_as(alice).get(f"/api/v1/apps/{app.slug}/catalog-info.yaml").content.decode()
    (component,) = yaml.safe_load_all(text)

    annotations = component["metadata"].pop("annotations")
    assert {k: v for k, v in annotations.items() if not k.startswith("appkeeper.io/")} == (
        document["metadata"]["annotations"]
    )
    assert annotations["appkeeper.io/slug"] == "finance-billing"
    expected = json.loads(json.dumps(document))
    del expected["metadata"]["annotations"]
    expected["spec"]["definition"] = {
        "$text": "https://git.example.com/finance/billing/openapi.yaml"
    }
    assert component == expected


def test_changes_made_in_appkeeper_overlay_the_document(api_as, alice, imported, field_ops):
    app, document = imported
    target = MicroAppFactory(slug="ledger", team=field_ops, state="active")
    Dependency.objects.create(from_microapp=app, to_microapp=target, origin="appkeeper")
    app.name, app.tags, app.deprecated = "Billing", ["python3.11"], True
    app.docs_url = "https://docs.example.com/billing"
    app.runbook_url = "https://runbooks.example.com/billing"
    app.team = field_ops
    app.save()

    text = api_as(alice).get(f"/api/v1/apps/{app.slug}/catalog-info.yaml").content.decode()
    (component,) = yaml.safe_load_all(text)
    metadata, spec = component["metadata"], component["spec"]

    assert metadata["name"] == "billing" and metadata["namespace"] == "finance"
    assert metadata["title"] == "Billing" and metadata["tags"] == ["python3-11"]
    assert metadata["links"] == [
        {"url": "https://docs.example.com/billing", "title": "Docs", "icon": "docs"},
        {"url": "https://grafana.example.com/billing", "title": "Dashboard"},
        {"url": "https://runbooks.example.com/billing", "title": "Runbook"},
    ]
    assert spec["lifecycle"] == "deprecated"
    # The group entity is support-tools' team; the app moved, so the owner follows it.
    assert spec["owner"] == "default/field-ops"
    assert spec["dependsOn"] == ["resource:billing-db", "component:default/ledger"]
    assert spec["system"] == "payments" and spec["type"] == "batch-job"
    assert metadata["labels"] == {"tier": "gold"} and component["x-unknown"] == {"kept": True}


def _fleet(n: int, team, people) -> None:
    apps = [
        MicroAppFactory(team=team, owner=people[i % len(people)], state="active") for i in range(n)
    ]
    for i, app in enumerate(apps):
        app.co_owners.add(people[(i + 1) % len(people)])
        Contract.objects.create(app=app, kind="graphql", version="1", sha256="s", sdl="type Q")
        if i:
            Dependency.objects.create(from_microapp=app, to_microapp=apps[i - 1])
        component, _ = store_entity(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": app.slug},
                "spec": {"type": "service", "lifecycle": "beta", "owner": team.slug},
            }
        )
        component.app = app
        component.save()
        store_entity(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "System",
                "metadata": {"name": f"system-{app.slug}"},
                "spec": {"owner": team.slug},
            }
        )


def test_fleet_is_served_in_a_fixed_number_of_queries(api_as, pat, django_assert_max_num_queries):
    client = api_as(pat)
    client.get(FLEET)  # what the first request of a session caches is not the fleet's cost
    counts = []
    for n in (2, 8):
        team = TeamFactory()
        people = [UserFactory() for _ in range(3)]
        team.members.add(*people)
        _fleet(n, team, people)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(FLEET).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[1]):
        client.get(FLEET, {"format": "json"})


def test_fleet_holds_teams_people_apps_and_kept_entities(support_tools, alice, field_ops):
    field_ops.parent = support_tools
    field_ops.save()
    live = MicroAppFactory(slug="router", team=field_ops, owner=alice, state="active")
    live.co_owners.add(UserFactory(username="dana@example.com", first_name="Dana"))
    MicroAppFactory(slug="sketch", team=field_ops, owner=alice, state="draft")
    MicroAppFactory(slug="gone", team=field_ops, owner=alice, state="retired")
    store_entity(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Location",
            "metadata": {"name": "elsewhere"},
            "spec": {"targets": ["./a.yaml"]},
        }
    )
    _, value = tokens.issue(user=alice, name="backstage")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {value}")

    response = client.get(FLEET)
    assert response["Content-Type"].startswith("application/yaml")
    entities = _by_ref(list(yaml.safe_load_all(response.content)))
    as_json = client.get(FLEET, {"format": "json"})
    assert as_json["Content-Type"] == "application/json"
    assert _by_ref(as_json.json()["items"]) == entities

    assert "Component:default/router" in entities
    # A draft its reader may see is listed (Backstage knows apps still in review); a
    # retired app is gone.
    assert "Component:default/sketch" in entities
    assert "Component:default/gone" not in entities
    assert not any(ref.startswith("Location:") for ref in entities)
    assert entities["Group:default/field-ops"]["spec"]["parent"] == "support-tools"
    dana = entities[f"User:default/{names.entity_name('dana@example.com')}"]
    assert dana["metadata"]["annotations"]["appkeeper.io/username"] == "dana@example.com"
    assert entities["User:default/alice"]["spec"]["memberOf"] == ["support-tools"]
    assert backstage_rejections(list(entities.values())) == {}


def test_fleet_needs_a_signed_in_caller(db):
    assert APIClient().get(FLEET).status_code in (401, 403)


def test_an_unknown_format_is_a_400_in_json(api_as, alice):
    response = api_as(alice).get("/api/v1/backstage/entities", {"format": "xml"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"format": ["Choose one of: yaml, json."]}
