"""Hostile input found by an outside attack run: each answer is a 400, never a 500."""

from __future__ import annotations

import json

import pytest

from catalog.models import Contract, MicroApp
from tests.catalog.test_backstage import post_yaml
from tests.catalog.test_contracts_api import PETSTORE_V1
from tests.factories import MicroAppFactory, TeamFactory

pytestmark = pytest.mark.django_db

CONTRACTS = "/api/v1/apps/pets/contracts/"


@pytest.fixture
def app(alice, support_tools):
    return MicroAppFactory(
        slug="pets", name="Pets", team=support_tools, owner=alice, state="active"
    )


def with_version(label: str) -> dict:
    doc = json.loads(json.dumps(PETSTORE_V1))
    doc["info"]["version"] = label
    return doc


# --- version labels ----------------------------------------------------------------------


@pytest.mark.parametrize("label", ["1.0/evil x", "../x y?#", "  ", "///", "é" * 80])
def test_a_version_taken_from_the_document_is_made_url_safe(api_as, client, alice, app, label):
    response = api_as(alice).post(CONTRACTS, {"spec": with_version(label)}, format="json")

    assert response.status_code == 201, response.json()
    stored = response.json()["version"]
    assert stored and "/" not in stored and " " not in stored and len(stored) <= 50
    contract = Contract.objects.get()
    # The document keeps its own version as data.
    assert contract.document["info"]["version"] == label
    client.force_login(alice)
    page = client.get("/apps/pets/")
    assert page.status_code == 200
    docs = client.get(f"/apps/pets/contracts/{stored}/")
    assert docs.status_code == 200
    assert api_as(alice).get(f"{CONTRACTS}{stored}/").status_code == 200


def test_a_requested_version_label_is_checked_by_the_one_rule(api_as, alice, app):
    response = api_as(alice).post(
        CONTRACTS, {"spec": PETSTORE_V1, "version": "1.0/evil x"}, format="json"
    )

    assert response.status_code == 400
    assert "version" in response.json()
    assert not Contract.objects.exists()


def test_a_backstage_version_annotation_is_checked_by_the_one_rule(api_as, pat):
    team = TeamFactory(slug="sre", name="SRE")
    team.members.add(pat)
    definition = json.dumps(PETSTORE_V1)
    text = f"""
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{name: pets}}
spec: {{type: service, lifecycle: experimental, owner: sre, providesApis: [pets-api]}}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: pets-api
  annotations: {{appkeeper.io/version: "../x y?#"}}
spec:
  type: openapi
  definition: '{definition}'
"""
    response = post_yaml(api_as(pat), text)

    assert response.status_code == 400, response.json()
    api = next(e for e in response.json()["entities"] if e["kind"] == "API")
    assert api["errors"][0]["field"] == "metadata.annotations.appkeeper.io/version"
    assert not MicroApp.objects.exists() and not Contract.objects.exists()


@pytest.mark.parametrize("label", ["1.0/evil x", "../x y?#", "a~b", ".."])
def test_a_stored_label_from_before_the_rule_does_not_break_the_pages(
    api_as, client, alice, app, label
):
    api_as(alice).post(CONTRACTS, {"spec": PETSTORE_V1}, format="json")
    Contract.objects.update(version=label)
    client.force_login(alice)

    page = client.get("/apps/pets/")

    assert page.status_code == 200
    from django.urls import reverse

    docs_url = reverse("app-contract-docs", args=["pets", label])
    assert "/../" not in docs_url and " " not in docs_url
    assert docs_url in page.content.decode()
    docs = client.get(docs_url)
    assert docs.status_code == 200
    document = client.get(reverse("api:app-contract-document", args=["pets", label]))
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "Pets"
