"""Rules added to match oasdiff: parameter sunset, operationId, OAuth flows, renamed ids.

Where oasdiff's own checker test exists, the case is ported with its fixture
(tests/data/oasdiff-rules/fixtures, or the corpus folder) and its mutation, and must
report exactly what oasdiff's test expects.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from contracts.documents import parse_openapi_text
from contracts.openapi_diff import diff_documents

from .helpers import OASDIFF, OASDIFF_RULES

FIXTURES = OASDIFF_RULES.parent / "fixtures"


def _load(path: Path) -> dict[str, Any]:
    return parse_openapi_text(path.read_text(encoding="utf-8"))


def _found(base: dict[str, Any], rev: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["id"], c["level"]) for c in diff_documents(base, rev)]


# -- request-parameter-removed-* (oasdiff: check_request_parameter_removed_test.go) -----


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("base", [("request-parameter-removed", "WARN")]),
        ("deprecated-future", [("request-parameter-removed-before-sunset", "ERR")]),
        ("deprecated-no-sunset", [("request-parameter-removed-with-deprecation", "INFO")]),
        ("deprecated-past", []),
        ("deprecated-invalid", [("request-parameter-sunset-parse", "ERR")]),
    ],
)
def test_removing_a_parameter_is_judged_by_its_deprecation_and_sunset(
    base: str, expected: list[tuple[str, str]]
) -> None:
    before = _load(FIXTURES / f"param-deprecation-{base}.yaml")
    after = _load(FIXTURES / "param-deprecation-sunset.yaml")
    assert _found(before, after) == expected


def test_a_parameter_removed_before_its_sunset_names_the_date() -> None:
    before = _load(FIXTURES / "param-deprecation-deprecated-future.yaml")
    after = _load(FIXTURES / "param-deprecation-sunset.yaml")
    (change,) = diff_documents(before, after)
    assert change["operation"] == "GET" and change["path"] == "/api/test"
    assert "9999-08-10" in change["message"]


# -- request-parameter-sunset-* (oasdiff: check_request_parameter_sunset_changed_test.go)

_SUNSET_IDS = {
    "request-parameter-sunset-deleted",
    "request-parameter-sunset-date-changed-too-small",
    "request-parameter-sunset-parse",
}


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("deprecated-with-sunset", "deprecated-no-sunset", ["request-parameter-sunset-deleted"]),
        (
            "deprecated-with-sunset-path",
            "deprecated-no-sunset-path-renamed",
            ["request-parameter-sunset-deleted"],
        ),
        (
            "deprecated-future",
            "deprecated-past",
            ["request-parameter-sunset-date-changed-too-small"],
        ),
        ("deprecated-future", "deprecated-invalid", ["request-parameter-sunset-parse"]),
        ("deprecated-invalid", "deprecated-future", ["request-parameter-sunset-parse"]),
        ("deprecated-with-other-extension", "deprecated-no-sunset", []),
        ("deprecated-future", "deprecated-future-2", []),
    ],
)
def test_the_sunset_of_a_deprecated_parameter_may_not_go_or_come_earlier(
    before: str, after: str, expected: list[str]
) -> None:
    base = _load(FIXTURES / f"param-deprecation-{before}.yaml")
    rev = _load(FIXTURES / f"param-deprecation-{after}.yaml")
    found = [(i, level) for i, level in _found(base, rev) if i in _SUNSET_IDS]
    assert found == [(i, "ERR") for i in expected]


# -- deprecating an endpoint or a parameter (oasdiff: check_api_deprecation_test.go,
# check_request_parameter_deprecation_test.go; oasdiff's default minimum notice: none)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("deprecated-no-sunset", ("endpoint-deprecated", "INFO")),
        ("deprecated-future", ("endpoint-deprecated-with-sunset", "INFO")),
        ("deprecated-past", ("api-sunset-date-too-small", "ERR")),
        ("deprecated-with-invalid-sunset", ("api-deprecated-sunset-parse", "ERR")),
    ],
)
def test_deprecating_an_endpoint(after: str, expected: tuple[str, str]) -> None:
    base = _load(FIXTURES / "deprecation-base.yaml")
    rev = _load(FIXTURES / f"deprecation-{after}.yaml")
    assert _found(base, rev) == [expected]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("deprecated-no-sunset", ("request-parameter-deprecated", "INFO")),
        ("deprecated-future", ("request-parameter-deprecated", "INFO")),
        ("deprecated-past", ("request-parameter-sunset-date-too-small", "ERR")),
        ("deprecated-invalid", ("request-parameter-sunset-parse", "ERR")),
    ],
)
def test_deprecating_a_parameter(after: str, expected: tuple[str, str]) -> None:
    base = _load(FIXTURES / "param-deprecation-base.yaml")
    rev = _load(FIXTURES / f"param-deprecation-{after}.yaml")
    assert _found(base, rev) == [expected]


def test_removing_an_endpoint_with_an_unreadable_sunset() -> None:
    base = _load(FIXTURES / "deprecation-deprecated-with-invalid-sunset.yaml")
    rev = copy.deepcopy(base)
    del rev["paths"]["/api/test"]["get"]
    assert _found(base, rev) == [("api-path-sunset-parse", "ERR")]


# -- api-operation-id-* (oasdiff: check_api_operation_id_updated_test.go) ---------------


@pytest.mark.parametrize(
    ("fixture", "new_id", "expected"),
    [
        ("operation_id_removed_base", None, "api-operation-id-removed"),
        ("operation_id_removed_base", "newOperationId", "api-operation-id-removed"),
        ("operation_id_added_base", "NewOperationId", "api-operation-id-added"),
    ],
)
def test_operation_id_changes(fixture: str, new_id: str | None, expected: str) -> None:
    base = _load(FIXTURES / f"{fixture}.yaml")
    rev = copy.deepcopy(base)
    post = rev["paths"]["/api/v1.0/groups"]["post"]
    if new_id is None:
        del post["operationId"]
    else:
        post["operationId"] = new_id
    assert _found(base, rev) == [(expected, "INFO")]


# -- api-security-component-oauth-* (oasdiff: check_components_security_updated_test.go)


def _petstore_auth(doc: dict[str, Any]) -> dict[str, Any]:
    scheme: dict[str, Any] = doc["components"]["securitySchemes"]["petstore_auth"]
    return scheme


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "authorizationUrl",
            "http://example.new.org/api/oauth/dialog",
            "api-security-component-oauth-url-changed",
        ),
        (
            "tokenUrl",
            "http://example.new.org/api/oauth/dialog",
            "api-security-component-oauth-token-url-changed",
        ),
    ],
)
def test_oauth_flow_urls(field: str, value: str, expected: str) -> None:
    base = _load(OASDIFF / "component_security_updated_base.yaml")
    rev = copy.deepcopy(base)
    _petstore_auth(rev)["flows"]["implicit"][field] = value
    assert _found(base, rev) == [(expected, "INFO")]


def test_oauth_scopes_added_removed_and_changed() -> None:
    base = _load(OASDIFF / "component_security_updated_base.yaml")
    rev = copy.deepcopy(base)
    scopes = _petstore_auth(rev)["flows"]["implicit"]["scopes"]
    scopes["admin:pets"] = "grants access to admin operations"
    del scopes["read:pets"]
    scopes["write:pets"] = "modify pets"
    assert sorted(_found(base, rev)) == [
        ("api-security-component-oauth-scope-added", "INFO"),
        ("api-security-component-oauth-scope-changed", "INFO"),
        ("api-security-component-oauth-scope-removed", "INFO"),
    ]


def test_oauth_changes_in_every_flow_and_in_swagger_2() -> None:
    def doc(token_url: str, scopes: dict[str, str]) -> dict[str, Any]:
        return {
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "securityDefinitions": {
                "oauth": {
                    "type": "oauth2",
                    "flow": "application",
                    "tokenUrl": token_url,
                    "scopes": scopes,
                }
            },
        }

    before = doc("https://a.example/token", {"read": "r", "write": "w"})
    after = doc("https://b.example/token", {"read": "r"})
    assert sorted(_found(before, after)) == [
        ("api-security-component-oauth-scope-removed", "INFO"),
        ("api-security-component-oauth-token-url-changed", "INFO"),
    ]


# -- renamed and re-levelled ids ----------------------------------------------------------


def _one_op(**post: Any) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"post": {"responses": {"200": {"description": "ok"}}, **post}}},
    }


def test_a_request_body_added_uses_oasdiffs_current_ids() -> None:
    body = {"content": {"application/json": {"schema": {"type": "object"}}}}
    assert _found(_one_op(), _one_op(requestBody={**body, "required": True})) == [
        ("request-body-added-required", "ERR")
    ]
    assert _found(_one_op(), _one_op(requestBody=body)) == [("request-body-added-optional", "INFO")]


def _response_of(schema: dict[str, Any]) -> dict[str, Any]:
    content = {"application/json": {"schema": {"type": "object", "properties": {"n": schema}}}}
    return _one_op(responses={"200": {"description": "ok", "content": content}})


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("integer", "number", ("response-property-type-generalized", "ERR")),
        ("number", "integer", ("response-property-type-specialized", "INFO")),
        ("string", "integer", ("response-property-type-changed", "ERR")),
    ],
)
def test_response_property_types_widened_narrowed_or_changed(
    before: str, after: str, expected: tuple[str, str]
) -> None:
    found = _found(_response_of({"type": before}), _response_of({"type": after}))
    assert found == [expected]
