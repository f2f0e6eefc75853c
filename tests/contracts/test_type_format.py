"""Format and type changes, judged per direction as oasdiff's check_types.go does."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.openapi_diff import diff_documents


def _doc(
    *,
    request: Any = None,
    response: Any = None,
    param: Any = None,
    header: Any = None,
    media_type: str = "application/json",
) -> dict[str, Any]:
    """One operation; each given schema sits where its name says."""
    op: dict[str, Any] = {"responses": {"200": {"description": "ok"}}}
    if request is not None:
        op["requestBody"] = {"content": {media_type: {"schema": request}}}
    if response is not None:
        op["responses"]["200"]["content"] = {media_type: {"schema": response}}
    if param is not None:
        op["parameters"] = [{"name": "since", "in": "query", "schema": param}]
    if header is not None:
        op["responses"]["200"]["headers"] = {"Retry-After": {"schema": header}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"post": op}},
    }


def _prop(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"at": schema}}


def _ids(base: dict[str, Any], rev: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["level"] for c in diff_documents(base, rev)}


STRING = {"type": "string"}
DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
INT32 = {"type": "integer", "format": "int32"}
INT64 = {"type": "integer", "format": "int64"}


@pytest.mark.parametrize(
    ("old", "new", "request_rule", "response_rule"),
    [
        # date-time -> date: requests lose the time part, responses can no longer be read.
        (DATE_TIME, DATE, ("request-property-type-changed", "ERR"), None),
        (DATE, DATE_TIME, ("request-property-type-generalized", "INFO"), None),
        (DATE, DATE_TIME, None, ("response-property-type-changed", "ERR")),
        (DATE_TIME, DATE, None, ("response-property-type-specialized", "INFO")),
        # A client holding 32 bits breaks on 64-bit responses; a server taking 64 takes 32.
        (INT32, INT64, ("request-property-type-generalized", "INFO"), None),
        (INT32, INT64, None, ("response-property-type-changed", "ERR")),
        (INT64, INT32, ("request-property-type-changed", "ERR"), None),
        (INT64, INT32, None, ("response-property-type-specialized", "INFO")),
        # A format added constrains requests; a format dropped unconstrains responses.
        (STRING, DATE_TIME, ("request-property-type-changed", "ERR"), None),
        (DATE_TIME, STRING, ("request-property-type-generalized", "INFO"), None),
        (DATE_TIME, STRING, None, ("response-property-type-changed", "ERR")),
        (STRING, DATE_TIME, None, ("response-property-type-specialized", "INFO")),
        (
            {"type": "string", "format": "uri"},
            {"type": "string", "format": "uri-template"},
            ("request-property-type-changed", "ERR"),
            ("response-property-type-changed", "ERR"),
        ),
        (
            {"type": "number", "format": "float"},
            {"type": "number", "format": "double"},
            ("request-property-type-generalized", "INFO"),
            ("response-property-type-changed", "ERR"),
        ),
    ],
)
def test_property_format_changes(
    old: dict[str, Any],
    new: dict[str, Any],
    request_rule: tuple[str, str] | None,
    response_rule: tuple[str, str] | None,
) -> None:
    got = _ids(
        _doc(request=_prop(old), response=_prop(old)), _doc(request=_prop(new), response=_prop(new))
    )
    for rule in (request_rule, response_rule):
        if rule is not None:
            assert got.get(rule[0]) == rule[1], got


def test_body_format_change_uses_the_body_ids() -> None:
    got = _ids(_doc(request=DATE_TIME, response=DATE), _doc(request=DATE, response=DATE_TIME))
    assert got["request-body-type-changed"] == "ERR"
    assert got["response-body-type-changed"] == "ERR"


def test_a_format_change_on_a_3_1_nullable_type_is_judged_on_its_non_null_type() -> None:
    old = {"type": ["integer", "null"], "format": "int32"}
    new = {"type": ["integer", "null"], "format": "int64"}
    got = _ids(_doc(request=_prop(old)), _doc(request=_prop(new)))
    assert got == {"request-property-type-generalized": "INFO"}


def test_type_and_format_changed_together_say_so() -> None:
    (change,) = diff_documents(_doc(response=_prop(INT32)), _doc(response=_prop(DATE_TIME)))
    assert change["id"] == "response-property-type-changed"
    assert "type/format changed from integer/int32 to string/date-time" in change["message"]


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        (DATE, DATE_TIME, "request-parameter-type-generalized"),
        (DATE_TIME, DATE, "request-parameter-type-changed"),
        (STRING, DATE_TIME, "request-parameter-type-changed"),
        (DATE_TIME, STRING, "request-parameter-type-generalized"),
        (INT32, INT64, "request-parameter-type-generalized"),
        # A query value is text: anything the old type took still parses as a string.
        (INT32, STRING, "request-parameter-type-generalized"),
    ],
)
def test_parameter_format_changes(old: dict[str, Any], new: dict[str, Any], rule: str) -> None:
    assert set(_ids(_doc(param=old), _doc(param=new))) == {rule}


@pytest.mark.parametrize(
    ("old", "new", "rule", "level"),
    [
        # The motivating case in oasdiff: Retry-After from an HTTP date to seconds.
        (DATE_TIME, {"type": "integer"}, "response-header-type-changed", "ERR"),
        ({"type": "integer"}, {"type": "number"}, "response-header-type-generalized", "ERR"),
        ({"type": "number"}, {"type": "integer"}, "response-header-type-specialized", "INFO"),
        ({"type": "string"}, {"type": "integer"}, "response-header-type-compatible", "INFO"),
        (INT64, INT32, "response-header-type-specialized", "INFO"),
        (STRING, {"type": ["string", "null"]}, "response-header-became-nullable", "ERR"),
        ({"type": ["string", "null"]}, STRING, "response-header-became-not-nullable", "INFO"),
    ],
)
def test_response_header_schema_changes(
    old: dict[str, Any], new: dict[str, Any], rule: str, level: str
) -> None:
    assert _ids(_doc(header=old), _doc(header=new)) == {rule: level}


def test_a_type_swap_in_a_text_body_is_compatible() -> None:
    old = _doc(request={"type": "object"}, response={"type": "string"}, media_type="text/plain")
    new = _doc(request={"type": "string"}, response={"type": "object"}, media_type="text/plain")
    got = _ids(old, new)
    assert got["request-body-type-compatible"] == "INFO"
    assert got["response-body-type-compatible"] == "INFO"


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ({"type": "string", "maxLength": 10}, STRING, "response-property-max-length-unset"),
        ({"type": "array", "minItems": 1}, {"type": "array"}, "response-property-min-items-unset"),
    ],
)
def test_a_dropped_bound_breaks_response_readers_only(
    old: dict[str, Any], new: dict[str, Any], rule: str
) -> None:
    got = _ids(
        _doc(request=_prop(old), response=_prop(old)), _doc(request=_prop(new), response=_prop(new))
    )
    assert got == {rule: "ERR"}
    body = _ids(_doc(response=old), _doc(response=new))
    assert body == {rule.replace("property", "body"): "ERR"}


def test_a_dropped_bound_on_a_write_only_property_is_not_reported() -> None:
    old = _prop({"type": "string", "maxLength": 10, "writeOnly": True})
    new = _prop({"type": "string", "writeOnly": True})
    assert _ids(_doc(response=old), _doc(response=new)) == {}


def test_discords_flags_moved_to_int53_break_response_readers() -> None:
    # discord/discord-api-spec (MIT) specs/openapi.json, 25fa356 (2023-08-03) -> 9898385
    # (2023-09-12): UserPIIResponse.flags, read by GET /users/@me, became a $ref to Int53Type.
    def doc(flags: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        user = {"type": "object", "properties": {"flags": flags}}
        out = _doc(response={"$ref": "#/components/schemas/UserPIIResponse"})
        out["components"] = {"schemas": {"UserPIIResponse": user, **extra}}
        return out

    int32 = {"type": "integer", "minimum": -2147483648, "maximum": 2147483647, "format": "int32"}
    int53 = {
        "type": "integer",
        "minimum": -9007199254740991,
        "maximum": 9007199254740991,
        "format": "int64",
    }
    got = diff_documents(
        doc(int32, {}), doc({"$ref": "#/components/schemas/Int53Type"}, {"Int53Type": int53})
    )
    assert [(c["id"], c["level"], c["message"]) for c in got] == [
        (
            "response-property-type-changed",
            "ERR",
            "response 200 application/json property 'flags': format changed from int32 to int64",
        ),
        (
            "response-property-min-decreased",
            "ERR",
            "response 200 application/json property 'flags': "
            "minimum decreased from -2147483648 to -9007199254740991",
        ),
        (
            "response-property-max-increased",
            "ERR",
            "response 200 application/json property 'flags': "
            "maximum increased from 2147483647 to 9007199254740991",
        ),
    ]


def test_a_format_moved_into_an_all_of_reference_is_not_a_format_change() -> None:
    # Discord's shape: {type: [integer, null], allOf: [{$ref: Int64Type}], format: int64}.
    int64 = {"type": "integer", "format": "int64"}
    wrapped = {"type": ["integer", "null"], "allOf": [{"$ref": "#/components/schemas/Int64"}]}
    old = _doc(response=_prop({"type": ["integer", "null"], "format": "int64"}))
    new = _doc(response=_prop(wrapped))
    new["components"] = {"schemas": {"Int64": int64}}
    assert [i for i in _ids(old, new) if "type" in i] == []
