"""SCIM's protocol around the resources: the bearer token, discovery, and every refusal as
an Error resource with its status (bad JSON, wrong media type, a body too large, methods
and endpoints Appkeeper does not offer)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from identity.models import ProvisioningToken
from identity.scim import tokens, users
from identity.scim.views import MAX_BODY_BYTES
from tests.identity.conftest import ScimClient

pytestmark = pytest.mark.django_db

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def assert_error(answer, status: int, scim_type: str | None = None) -> dict:
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"].startswith("application/scim+json")
    body = answer.json()
    assert body["schemas"] == [ERROR_SCHEMA] and body["status"] == str(status)
    assert body["detail"]
    if scim_type:
        assert body["scimType"] == scim_type
    return body


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token aps_x",
        "Bearer aps_wrong",
        "Bearer " + "a" * 300,
    ],
)
def test_without_a_valid_token_everything_is_401(client, scim, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    for path in (
        "/scim/v2/Users",
        "/scim/v2/Groups/1",
        "/scim/v2/ServiceProviderConfig",
        "/scim/v2/Bulk",
        "/scim/v2/nowhere",
    ):
        answer = client.get(path, headers=headers)
        assert_error(answer, 401)
        assert answer["WWW-Authenticate"].startswith('Bearer realm="Appkeeper SCIM"')


def test_a_revoked_token_is_refused(scim, scim_token):
    token, _ = scim_token
    assert scim.get("Users").status_code == 200
    tokens.revoke(token, actor=None)
    answer = scim.get("Users")
    assert_error(answer, 401)
    assert 'error="invalid_token"' in answer["WWW-Authenticate"]


def test_last_used_at_is_written_at_most_every_few_minutes(scim, scim_token):
    token, _ = scim_token
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        scim.get("Users")
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        scim.get("Users")
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        scim.get("Users")
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(minutes=6)


def test_two_tokens_work_side_by_side(scim):
    _, value = tokens.issue(name="Entra ID", actor=None)
    assert ScimClient(value).get("Users").status_code == 200
    assert ProvisioningToken.objects.count() == 2


def test_service_provider_config_says_what_is_supported(scim):
    answer = scim.get("ServiceProviderConfig")
    assert answer.status_code == 200
    config = answer.json()
    assert config["patch"]["supported"] and config["filter"] == {
        "supported": True,
        "maxResults": 200,
    }
    assert config["etag"]["supported"]
    assert not config["bulk"]["supported"] and not config["sort"]["supported"]
    assert not config["changePassword"]["supported"]
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_and_schemas(scim):
    types = scim.get("ResourceTypes").json()
    assert {t["endpoint"] for t in types["Resources"]} == {"/Users", "/Groups"}
    assert scim.get("ResourceTypes/User").json()["schema"].endswith(":User")
    assert_error(scim.get("ResourceTypes/Device"), 404)
    schemas = scim.get("Schemas").json()["Resources"]
    user = next(s for s in schemas if s["name"] == "User")
    names = {a["name"] for a in user["attributes"]}
    assert {"userName", "name", "emails", "active", "externalId", "groups", "displayName"} <= names
    uri = "urn:ietf:params:scim:schemas:core:2.0:Group"
    assert scim.get(f"Schemas/{uri}").json()["id"] == uri


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ("{not json", "invalidSyntax"),
        ("[1, 2]", "invalidSyntax"),
        ('{"userName": NaN}', "invalidSyntax"),
        ('{"userName": "a\\u0000b"}', "invalidSyntax"),
        ("[" * 100 + "]" * 100, "invalidSyntax"),
        ('{"userName": 5}', "invalidValue"),
        ('{"name": {"givenName": "no user name"}}', "invalidValue"),
        ('{"userName": "ok", "emails": "nobody"}', "invalidValue"),
        ('{"userName": "ok", "name": "Jo"}', "invalidValue"),
    ],
)
def test_bad_bodies_are_400(scim, body, scim_type):
    assert_error(scim.post("Users", body), 400, scim_type)


def test_a_patch_needs_the_patch_op_schema(scim):
    user = scim.post("Users", {"userName": "kim"}).json()
    answer = scim.patch(
        f"Users/{user['id']}", {"Operations": [{"op": "add", "path": "active", "value": True}]}
    )
    assert_error(answer, 400, "invalidSyntax")


def test_plain_json_is_accepted_and_other_media_types_are_not(scim):
    assert (
        scim.post("Users", {"userName": "kim"}, content_type="application/json").status_code == 201
    )
    assert_error(
        scim.post("Users", "userName=kim", content_type="application/x-www-form-urlencoded"), 415
    )


def test_a_body_over_the_limit_is_413(scim):
    padding = "x" * (MAX_BODY_BYTES + 1)
    answer = scim.post("Users", {"userName": "kim", "title": padding})
    assert_error(answer, 413)


def test_unsupported_endpoints_and_methods(scim):
    assert_error(scim.post("Bulk", {}), 501)
    assert_error(scim.get("Me"), 501)
    assert_error(scim.get("Users/.search"), 404)
    assert_error(scim.get("Nothing/here"), 404)
    answer = scim.delete("Users")
    assert_error(answer, 405)
    assert answer["Allow"] == "GET, POST"
    assert_error(scim.post("ServiceProviderConfig", {}), 405)


def test_scim_stays_out_of_the_api_schema(client, pat):
    client.force_login(pat)
    schema = client.get("/api/schema/?format=json").json()
    assert not [path for path in schema["paths"] if "scim" in path.lower()]


def test_an_unexpected_failure_is_a_scim_error_too(scim, monkeypatch):
    def broken():
        raise RuntimeError("database on fire")

    monkeypatch.setattr(users, "queryset", broken)
    answer = scim.get("Users", headers={"X-Request-ID": "req-42"})
    body = assert_error(answer, 500)
    assert "req-42" in body["detail"] and "fire" not in body["detail"]
