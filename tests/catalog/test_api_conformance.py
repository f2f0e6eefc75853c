"""The API keeps the promises of its OpenAPI schema (what .ci/schemathesis.sh checks):
strict input types, and every answer in a documented shape."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db

APPS = "/api/v1/apps/"


@pytest.fixture
def schema(pat):
    client = Client()
    client.force_login(pat)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_submit_conflicts_share_one_documented_schema(api_as, alice, support_tools, schema):
    app = MicroAppFactory(team=support_tools, owner=alice, state="active")

    response = api_as(alice).post(f"{APPS}{app.slug}/submit/")

    assert response.status_code == 409
    assert set(response.json()) == {"detail", "code"}
    documented = schema["paths"]["/api/v1/apps/{slug}/submit/"]["post"]["responses"]["409"]
    ref = documented["content"]["application/json"]["schema"]["$ref"]
    conflict = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(conflict["required"]) == {"detail", "code"}
    assert {"passed", "checklist", "findings"} <= set(conflict["properties"])


def test_import_documents_both_shapes_of_its_400(api_as, alice, schema):
    response = api_as(alice).post(
        "/api/v1/apps/import/", data="'\n", content_type="application/yaml"
    )

    assert response.status_code == 400
    assert "yaml" in response.json()
    documented = schema["paths"]["/api/v1/apps/import/"]["post"]["responses"]["400"]
    shapes = documented["content"]["application/json"]["schema"]["anyOf"]
    assert {s["$ref"].rsplit("/", 1)[1] for s in shapes} == {"ImportReport", "ApiError"}


def test_catalog_info_is_documented_as_yaml_text(schema):
    documented = schema["paths"]["/api/v1/apps/{slug}/catalog-info.yaml"]["get"]
    assert documented["responses"]["200"]["content"] == {
        "application/yaml": {"schema": {"type": "string"}}
    }


@pytest.mark.parametrize("field", ["owner", "team"])
def test_policy_evaluation_refuses_an_empty_owner_or_team(api_as, alice, field):
    response = api_as(alice).post("/api/v1/policies/evaluate/", {field: ""}, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_team_members_must_be_a_list(api_as, pat):
    body = {"slug": "new-team", "name": "New", "contact_email": "n@example.com", "members": {}}

    response = api_as(pat).post("/api/v1/teams/", body, format="json")

    assert response.status_code == 400
    assert "members" in response.json()


def test_app_regions_must_be_a_list(api_as, alice, support_tools, regions):
    app = MicroAppFactory(team=support_tools, owner=alice)

    response = api_as(alice).patch(f"{APPS}{app.slug}/", {"regions": {}}, format="json")

    assert response.status_code == 400
    assert "regions" in response.json()


@pytest.mark.parametrize("name", [0, 1.5, True])
def test_text_fields_take_strings_not_numbers(api_as, pat, name):
    body = {"code": "ch-north", "name": name, "jurisdiction": "CH"}

    response = api_as(pat).post("/api/v1/regions/", body, format="json")

    assert response.status_code == 400
    assert "name" in response.json()


@pytest.mark.parametrize(
    "value", ["", "2026-12-31", "2026-12-31T00:00:00", "2026-12-31 00:00:00Z", "tomorrow"]
)
def test_expires_before_takes_only_a_full_date_time(api_as, alice, value):
    response = api_as(alice).get(APPS, {"expires_before": value})

    assert response.status_code == 400
    assert "expires_before" in response.json()


@pytest.mark.parametrize("value", ["2026-12-31T00:00:00Z", "2026-12-31T00:00:00.5+01:00"])
def test_expires_before_takes_rfc3339_date_times(api_as, alice, value):
    assert api_as(alice).get(APPS, {"expires_before": value}).status_code == 200


@pytest.mark.parametrize("name", ["page", "page_size"])
def test_repeated_page_parameters_are_400(api_as, alice, name):
    response = api_as(alice).get(f"{APPS}?{name}=1&{name}=2")

    assert response.status_code == 400
    assert name in response.json()


@pytest.mark.parametrize("value", ["", " 5", "+5", "\u0665", "last"])
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_page_parameters_are_ascii_whole_numbers(api_as, alice, name, value):
    response = api_as(alice).get(APPS, {name: value})

    assert response.status_code == 400
    assert name in response.json()


def test_review_comment_must_be_text(api_as, pat, alice, support_tools, regions):
    from catalog import services
    from catalog.models import Review
    from tests.catalog.review_support import pii_app

    app = pii_app(team=support_tools, owner=alice, regions=regions, name="Ticket Router")
    services.app_submit(app=app, actor=alice)
    review = Review.objects.get(app=app)

    response = api_as(pat).post(
        f"/api/v1/reviews/{review.pk}/decide/",
        {"decision": "approved", "comment": 0},
        format="json",
    )

    assert response.status_code == 400
    assert "comment" in response.json()
    review.refresh_from_db()
    assert review.decision == ""


def test_import_reads_a_json_body_as_json_not_as_yaml(api_as, alice):
    body = {"yaml": "0", "dry_run": {}}

    response = api_as(alice).post("/api/v1/apps/import/?dry_run=true", body, format="json")

    assert response.status_code == 400
    assert "dry_run" in response.json()


def test_open_reviews_and_read_contract_versions_document_their_nulls(schema):
    components = schema["components"]["schemas"]
    assert components["Review"]["properties"]["reviewer"]["nullable"] is True
    # A version as read (with its acknowledgements) and as uploaded (with its impact).
    for name in ("ContractVersion", "ContractUploadAnswer"):
        assert components[name]["properties"]["created"]["nullable"] is True
    assert components["ContractDependent"]["properties"]["touched"]["nullable"] is True


@pytest.mark.parametrize("text", ["{}\n", "metadata:\n  name: x\n", "kind: 3\n"])
def test_import_refuses_documents_that_are_not_entities(api_as, alice, text):
    response = api_as(alice).post(
        "/api/v1/apps/import/?dry_run=true", data=text, content_type="application/yaml"
    )

    assert response.status_code == 400
    assert "no kind" in response.json()["yaml"][0]


@pytest.mark.parametrize("value", [1, 0, "yes", "on", None])
def test_boolean_fields_take_json_booleans(api_as, pat, value):
    body = {"code": "ch-north", "name": "Zurich", "jurisdiction": "CH", "sovereign": value}

    response = api_as(pat).post("/api/v1/regions/", body, format="json")

    assert response.status_code == 400
    assert "sovereign" in response.json()


@pytest.mark.parametrize("value", [True, "true", False])
def test_boolean_fields_take_true_and_false(api_as, pat, value):
    body = {"code": "ch-north", "name": "Zurich", "jurisdiction": "CH", "sovereign": value}

    assert api_as(pat).post("/api/v1/regions/", body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [("slug", 7), ("contact_email", 0), ("cost_center", 1.5), ("chat_channel", True)],
)
def test_team_text_fields_take_strings(api_as, pat, field, value):
    body = {"slug": "new-team", "name": "New", "contact_email": "n@example.com", field: value}

    response = api_as(pat).post("/api/v1/teams/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_strictness_is_declared_by_the_project_serializers_not_patched_into_drf():
    """The strict fields come from the project's base serializer; DRF's own
    ModelSerializer (and any other library's subclass of it) keeps DRF's fields."""
    from django.db import models
    from rest_framework import serializers

    from catalog.api import schema
    from catalog.api.serializers import MicroAppSerializer, RegionSerializer, TeamSerializer

    drf_mapping = serializers.ModelSerializer.serializer_field_mapping
    assert drf_mapping[models.BooleanField] is serializers.BooleanField
    assert drf_mapping[models.CharField] is serializers.CharField
    assert drf_mapping[models.URLField] is serializers.URLField

    assert isinstance(RegionSerializer().fields["sovereign"], schema.StrictBooleanField)
    assert isinstance(TeamSerializer().fields["contact_email"], schema.StrictEmailField)
    fields = MicroAppSerializer().fields
    assert isinstance(fields["handles_pii"], schema.StrictBooleanField)
    assert isinstance(fields["docs_url"], schema.StrictURLField)
    assert isinstance(fields["description"], schema.StrictCharField)
