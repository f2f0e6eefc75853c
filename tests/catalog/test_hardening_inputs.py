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
    team = TeamFactory(slug="sre", name="SRE", lead=pat)
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


# --- contract documents that used to crash the loader ---------------------------------------

NUL_YAML = 'openapi: 3.0.3\ninfo: {title: "a\\0b", version: "1"}\npaths: {}\n'
NUL_JSON = '{"openapi": "3.0.3", "info": {"title": "a\\u0000", "version": "1"}, "paths": {}}'
BAD_DATE = "openapi: 3.0.3\ninfo: {title: a, version: '1'}\nx-date: 2024-13-45\npaths: {}\n"
BAD_TIME = (
    "openapi: 3.0.3\ninfo: {title: a, version: '1'}\nx-date: 2024-02-30 25:61:00\npaths: {}\n"
)
BIG_INT_YAML = f"openapi: 3.0.3\ninfo: {{title: a, version: '1'}}\nx-n: {'9' * 5000}\npaths: {{}}\n"
BIG_INT_JSON = (
    f'{{"openapi": "3.0.3", "info": {{"title": "a", "version": "1"}}, "x-n": {"9" * 5000}, '
    '"paths": {}}'
)
HOSTILE_DOCUMENTS = [NUL_YAML, NUL_JSON, BAD_DATE, BAD_TIME, BIG_INT_YAML, BIG_INT_JSON]


@pytest.mark.parametrize("text", HOSTILE_DOCUMENTS)
def test_hostile_scalars_are_a_400_on_upload_and_check(api_as, alice, app, text):
    client = api_as(alice)

    upload = client.post(CONTRACTS, {"spec": text, "kind": "openapi"}, format="json")
    check = client.post(
        "/api/v1/contracts/check/", {"app": "pets", "spec": text, "kind": "openapi"}, format="json"
    )

    assert upload.status_code == 400, upload.content
    assert check.status_code == 400, check.content
    assert not Contract.objects.exists()


@pytest.mark.parametrize("text", HOSTILE_DOCUMENTS)
def test_hostile_scalars_are_refused_on_the_app_page_form(client, alice, app, text):
    client.force_login(alice)

    response = client.post("/apps/pets/contracts/upload/", {"text": text, "kind": "openapi"})

    assert response.status_code == 400
    assert not Contract.objects.exists()


@pytest.mark.parametrize("text", [NUL_YAML, BAD_DATE, BIG_INT_JSON])
def test_registration_with_a_refused_contract_creates_nothing(client, alice, support_tools, text):
    from tests.catalog.test_views import form_data

    client.force_login(alice)
    response = client.post("/apps/new/", form_data(support_tools, contract_text=text))

    assert response.status_code == 200
    assert "contract_text" in response.context["form"].errors
    assert not MicroApp.objects.filter(slug="shift-planner").exists()


def test_registration_with_a_bad_contract_version_creates_nothing(client, alice, support_tools):
    from tests.catalog.test_views import OPENAPI, form_data

    client.force_login(alice)
    data = form_data(support_tools, contract_text=OPENAPI, contract_version="1.0/evil x")
    response = client.post("/apps/new/", data)

    assert response.status_code == 200
    assert "contract_version" in response.context["form"].errors
    assert not MicroApp.objects.exists()


# --- Backstage entities with the wrong shape --------------------------------------------------

GOOD_COMPONENT = """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: good}
spec: {type: service, lifecycle: experimental, owner: sre}
"""


@pytest.mark.parametrize(
    ("entity", "field"),
    [
        ("metadata: [1]\nspec: {owner: sre}", "metadata"),
        ("metadata: {name: bad}\nspec: hello", "spec"),
        ("metadata: {name: bad, annotations: [1]}\nspec: {owner: sre}", "metadata.annotations"),
        (
            "metadata: {name: bad, annotations: {1: x}}\nspec: {owner: sre}",
            "metadata.annotations.1",
        ),
        ("metadata: {name: bad}\nspec: {owner: sre, dependsOn: 5}", "spec.dependsOn"),
        ("metadata: {name: bad}\nspec: {owner: sre, providesApis: 5}", "spec.providesApis"),
        ("metadata: {name: bad, tags: 5}\nspec: {owner: sre}", "metadata.tags"),
        ("metadata: {name: [1]}\nspec: {owner: sre}", "metadata.name"),
    ],
)
def test_backstage_entities_with_bad_shapes_are_a_400_per_entity(api_as, pat, entity, field):
    team = TeamFactory(slug="sre", name="SRE")
    team.members.add(pat)
    text = f"{GOOD_COMPONENT}---\napiVersion: backstage.io/v1alpha1\nkind: Component\n{entity}\n"

    response = post_yaml(api_as(pat), text)

    assert response.status_code == 400, response.content
    entities = response.json()["entities"]
    assert entities[0]["action"] == "skipped" and not entities[0]["errors"]
    assert entities[1]["action"] == "error"
    assert entities[1]["errors"][0]["field"] == field
    assert not MicroApp.objects.exists()


# --- two registrations racing for one slug -----------------------------------------------------


@pytest.fixture
def slug_taken_meanwhile(monkeypatch):
    """The other registration commits between this one's uniqueness check and its insert."""

    def check_then_lose_the_race(self, *args, **kwargs):
        if self.pk is None and not MicroApp.objects.filter(slug=self.slug).exists():
            MicroAppFactory(slug=self.slug)

    monkeypatch.setattr(MicroApp, "validate_unique", check_then_lose_the_race)


def test_a_registration_losing_the_slug_race_gets_a_400_over_the_api(
    api_as, alice, support_tools, regions, slug_taken_meanwhile
):
    from tests.catalog.test_api import payload

    response = api_as(alice).post("/api/v1/apps/", payload(slug="racy"), format="json")

    assert response.status_code == 400, response.content
    assert response.json()["slug"] == ["Another app already uses this slug."]


def test_a_registration_losing_the_slug_race_gets_an_inline_form_error(
    client, alice, support_tools, slug_taken_meanwhile
):
    from tests.catalog.test_views import form_data

    client.force_login(alice)
    response = client.post("/apps/new/", form_data(support_tools))

    assert response.status_code == 200
    assert response.context["form"].errors["slug"] == ["Another app already uses this slug."]
    assert MicroApp.objects.filter(slug="shift-planner").count() == 1


# --- control characters in names ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["Ticket\nRouter", "Ticket\rRouter", "Tab\there", "Line\u2028sep"])
def test_an_app_name_with_control_characters_is_a_400(api_as, alice, regions, name):
    from tests.catalog.test_api import payload

    response = api_as(alice).post("/api/v1/apps/", payload(name=name), format="json")

    assert response.status_code == 400, response.content
    assert "name" in response.json()
    assert not MicroApp.objects.exists()


def test_an_app_name_with_a_newline_is_an_inline_form_error(client, alice, support_tools):
    from tests.catalog.test_views import form_data

    client.force_login(alice)
    response = client.post("/apps/new/", form_data(support_tools, name="Shift\nPlanner"))

    assert response.status_code == 200
    assert "control characters" in response.context["form"].errors["name"][0]
    assert not MicroApp.objects.exists()


def test_a_team_name_with_a_newline_is_a_400(api_as, pat):
    response = api_as(pat).post(
        "/api/v1/teams/", {"slug": "evil", "name": "Evil\nBcc: x@example.com"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert "name" in response.json()


def test_an_email_about_an_app_saved_with_a_newline_in_its_name_still_sends(alice, app):
    from catalog.models import Notification
    from catalog.notifications import email_message

    MicroApp.objects.filter(pk=app.pk).update(name="Pets\nBcc: x@example.com")
    note = Notification(app=app, kind="test", subject="Pets\nBcc: x@example.com expires", body="b")

    message = email_message(note, "alice@example.com").message()

    assert message["Subject"] == "[Appkeeper] Pets Bcc: x@example.com expires"
    assert message["Bcc"] is None


# --- free-text length limits --------------------------------------------------------------------


def test_a_description_over_5000_characters_is_a_400(api_as, alice, regions):
    from tests.catalog.test_api import payload

    response = api_as(alice).post("/api/v1/apps/", payload(description="x" * 5001), format="json")

    assert response.status_code == 400, response.content
    assert "5000" in response.json()["description"][0]
    assert not MicroApp.objects.exists()
    ok = api_as(alice).post("/api/v1/apps/", payload(description="x" * 5000), format="json")
    assert ok.status_code == 201, ok.content


def test_a_description_over_5000_characters_is_an_inline_form_error(client, alice, support_tools):
    from tests.catalog.test_views import form_data

    client.force_login(alice)
    response = client.post("/apps/new/", form_data(support_tools, description="x" * 9_000))

    assert response.status_code == 200
    assert "description" in response.context["form"].errors
    assert not MicroApp.objects.exists()


@pytest.fixture
def in_review(alice, support_tools, regions):
    from catalog import services
    from catalog.models import Review
    from tests.catalog.review_support import pii_app

    app = pii_app(team=support_tools, owner=alice, regions=regions, name="Ticket Router")
    services.app_submit(app=app, actor=alice)
    return Review.objects.get(app=app)


def test_a_review_comment_over_5000_characters_is_refused_on_the_page(client, pat, in_review):
    client.force_login(pat)

    response = client.post(
        f"/reviews/{in_review.pk}/", {"decision": "rejected", "comment": "x" * 5001}
    )

    assert response.status_code == 400
    assert "under 5000 characters" in response.content.decode()
    assert MicroApp.objects.get(pk=in_review.app_id).state == "in_review"


def test_a_review_comment_over_5000_characters_is_a_400_over_the_api(api_as, pat, in_review):
    response = api_as(pat).post(
        f"/api/v1/reviews/{in_review.pk}/decide/",
        {"decision": "rejected", "comment": "x" * 5001},
        format="json",
    )

    assert response.status_code == 400
    assert "comment" in response.json()


def test_a_retirement_reason_over_the_limit_is_refused_by_the_model(alice, app):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        app.retire(by=alice, reason="x" * 5001)

    assert "reason" in refused.value.message_dict
    app.refresh_from_db()
    assert app.state == "active"


# --- lone surrogates ---------------------------------------------------------------------


@pytest.mark.parametrize("field", ["kind", "name", "slug", "description", "tags"])
def test_a_lone_surrogate_in_json_is_a_400_not_a_500(api_as, alice, support_tools, field):
    """Found by tests/fuzz: "\\ud800" is valid JSON but no UTF-8 text; an error message
    quoting it ('"\\ud800" is not a valid choice.') crashed the renderer."""
    body = {"slug": "lonely", "name": "Lonely", "kind": "integration", "team": "support-tools"}
    body[field] = ["\ud800"] if field == "tags" else "a\ud800b"
    raw = json.dumps(body)  # ensure_ascii: the surrogate travels as its \\ud800 escape

    response = api_as(alice).post("/api/v1/apps/", raw, content_type="application/json")

    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]
    assert not MicroApp.objects.exists()


def test_a_surrogate_pair_is_still_one_character(api_as, alice, support_tools):
    raw = json.dumps(
        {
            "slug": "smiling",
            "name": "Smiling \U0001f600",
            "kind": "integration",
            "team": "support-tools",
            "environment": "staging",
        }
    )
    assert "\\ud83d\\ude00" in raw

    response = api_as(alice).post("/api/v1/apps/", raw, content_type="application/json")

    assert response.status_code == 201, response.json()
    assert MicroApp.objects.get().name == "Smiling \U0001f600"
