"""The OpenAPI schema documents the scorecard and chargeback endpoints exactly."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_is_valid(schema):
    validate(schema)


@pytest.mark.parametrize("path", ["/api/v1/chargeback/", "/api/v1/scorecards/cleanup/"])
def test_csv_endpoints_document_both_media_types_and_json_errors(schema, path):
    responses = schema["paths"][path]["get"]["responses"]
    assert set(responses["200"]["content"]) == {"application/json", "text/csv"}
    for status in ("400", "401", "403"):
        assert set(responses[status]["content"]) == {"application/json"}
    params = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
    assert "format" in params


def test_chargeback_parameters(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/chargeback/"]["get"]["parameters"]}
    assert params == {"period", "from", "to", "group_by", "team", "format"}


def test_scorecard_paths(schema):
    for path in ("/api/v1/scorecards/", "/api/v1/scorecards/teams/", "/api/v1/scorecards/rubric/"):
        assert "get" in schema["paths"][path]
    params = {p["name"] for p in schema["paths"]["/api/v1/scorecards/"]["get"]["parameters"]}
    assert {"quarter", "team", "grade", "app"} <= params
