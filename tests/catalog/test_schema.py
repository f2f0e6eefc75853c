"""The published OpenAPI document is valid, complete and generated without warnings."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_endpoint_serves_a_valid_openapi_document(client, alice):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = (
        response.json() if "json" in response["Content-Type"] else yaml.safe_load(response.content)
    )
    validate(document)
    assert "/api/v1/apps/" in document["paths"]
    assert "/api/v1/apps/{slug}/retire/" in document["paths"]
    create = document["paths"]["/api/v1/apps/"]["post"]
    assert "requestBody" in create and "201" in create["responses"]


def test_schema_generates_without_warnings_or_errors(tmp_path, capsys):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    validate(yaml.safe_load(out.read_text()))


def test_swagger_ui_is_served_locally(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    # No asset from another host (the page embeds a random CSRF token, so a bare "cdn"
    # substring check failed once in a while).
    assert re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", html) == []
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_swagger_ui_declares_its_language_and_loads_the_contrast_fixes(client):
    html = client.get("/api/docs/").content.decode()
    assert '<html lang="en">' in html
    # After Swagger UI's own stylesheet, so the darker method colours win.
    assert html.index("swagger-ui.css") < html.index("css/swagger-ui.css")
    # Its init script comes from a second request (no inline script); deep links would
    # nest a link in every operation's button (axe: nested-interactive).
    assert "<script>" not in html and "<style>" not in html
    script = client.get("/api/docs/", {"script": ""}).content.decode()
    assert '"deepLinking": false' in script


def _admits_empty(schema: dict) -> bool:
    if schema.get("type") == "array":
        return _admits_empty(schema["items"])
    if "anyOf" in schema:
        return any(_admits_empty(option) for option in schema["anyOf"])
    if schema.get("type") != "string" or "pattern" in schema or "format" in schema:
        return False
    return schema.get("minLength", 0) == 0 and "" in schema.get("enum", [""])


def test_every_filter_parameter_admits_the_empty_value_the_filtersets_read_as_any(
    tmp_path, api_as, alice
):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    document = yaml.safe_load(out.read_text())
    apps = {p["name"]: p for p in document["paths"]["/api/v1/apps/"]["get"]["parameters"]}
    for name in ("team", "team_id", "state", "region", "kind", "environment", "q"):
        assert _admits_empty(apps[name]["schema"]), name
    # ...and the API does read an empty value as "any" (a schema-valid request is served).
    answer = api_as(alice).get("/api/v1/apps/?region=&team_id=&kind=&state=")
    assert answer.status_code == 200
