"""Every spelling of "nullable X" is the same schema; what changed inside X is reported.

The shapes are Discord's (discord/discord-api-spec, MIT, ``specs/openapi.json``): between
commits 36312e3 and 39613dd (September 2023) every nullable snowflake
``{type: [string, "null"], format: snowflake}`` became
``{oneOf: [{type: "null"}, {$ref: SnowflakeType}]}``, and ``SnowflakeType`` carries a
``pattern`` the old inline schema did not.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contracts.openapi_diff import diff_documents

SNOWFLAKE = {"type": "string", "pattern": "^(0|[1-9][0-9]*)$", "format": "snowflake"}
INLINE_31 = {"type": ["string", "null"], "format": "snowflake"}
WRAPPED = {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/SnowflakeType"}]}


def _doc(prop: dict[str, Any], version: str = "3.1.0") -> dict[str, Any]:
    """CreatePrivateChannelRequest's ``recipient_id``, sent and read back."""
    body = {
        "type": "object",
        "properties": {"recipient_id": prop, "nicks": {"type": ["object", "null"]}},
    }
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Channel"}}}
    return {
        "openapi": version,
        "info": {"title": "Discord HTTP API (Preview)", "version": "10"},
        "paths": {
            "/users/@me/channels": {
                "post": {
                    "requestBody": {"content": copy.deepcopy(content)},
                    "responses": {"200": {"description": "ok", "content": content}},
                }
            }
        },
        "components": {"schemas": {"Channel": body, "SnowflakeType": SNOWFLAKE}},
    }


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["id"], c["level"], c["location"]) for c in diff_documents(old, new)]


def test_discords_rewrite_reports_only_the_pattern_it_added() -> None:
    assert _changes(_doc(INLINE_31), _doc(WRAPPED)) == [
        (
            "request-property-pattern-added",
            "ERR",
            "request body application/json property 'recipient_id'",
        )
    ]


def test_and_back_reports_only_the_pattern_removed() -> None:
    assert _changes(_doc(WRAPPED), _doc(INLINE_31)) == [
        (
            "request-property-pattern-removed",
            "INFO",
            "request body application/json property 'recipient_id'",
        )
    ]


@pytest.mark.parametrize(
    "wrapped",
    [
        WRAPPED,
        # Null last, anyOf, the null spelled as an enum, reached through a $ref,
        # annotations on the wrapper, a 3.0-style nullable wrapper.
        {"oneOf": [{"$ref": "#/components/schemas/SnowflakeType"}, {"type": "null"}]},
        {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/SnowflakeType"}]},
        {"oneOf": [{"enum": [None]}, {"$ref": "#/components/schemas/SnowflakeType"}]},
        {"oneOf": [{"$ref": "#/components/schemas/Null"}, SNOWFLAKE]},
        {"description": "the user", "x-discord-union": "oneOf", **WRAPPED},
        {"nullable": True, "oneOf": [{"$ref": "#/components/schemas/SnowflakeType"}]},
    ],
)
@pytest.mark.parametrize(
    "plain",
    [
        {**SNOWFLAKE, "type": ["string", "null"]},
        {**SNOWFLAKE, "nullable": True},
    ],
)
def test_every_spelling_of_nullable_is_the_same(
    plain: dict[str, Any], wrapped: dict[str, Any]
) -> None:
    old, new = _doc(plain), _doc(wrapped)
    new["components"]["schemas"]["Null"] = {"type": "null"}
    assert _changes(old, new) == []
    assert _changes(new, old) == []


def test_a_3_0_nullable_against_a_3_1_wrapper() -> None:
    assert _changes(_doc({**SNOWFLAKE, "nullable": True}, "3.0.3"), _doc(WRAPPED)) == []


def test_a_constraint_added_inside_the_member_keeps_the_property_id() -> None:
    tighter = copy.deepcopy(WRAPPED)
    new = _doc(tighter)
    new["components"]["schemas"]["SnowflakeType"] = {**SNOWFLAKE, "maxLength": 20}
    old = _doc({**SNOWFLAKE, "type": ["string", "null"]})
    assert ("request-property-max-length-set", "WARN") in [c[:2] for c in _changes(old, new)]
    assert not [c for c in _changes(old, new) if "nullable" in c[0] or "type" in c[0]]


def test_wrapping_a_non_nullable_schema_still_makes_it_nullable() -> None:
    # oasdiff's NullableWrappingDiff: the wrap adds null, and a response reader breaks.
    got = _changes(_doc(SNOWFLAKE), _doc(WRAPPED))
    assert ("response-property-became-nullable", "ERR") in [c[:2] for c in got]
    assert ("request-property-became-nullable", "INFO") in [c[:2] for c in got]
    assert not [c for c in got if "one-of" in c[0] or "type-" in c[0]]


def test_unwrapping_makes_it_not_nullable() -> None:
    got = _changes(_doc(WRAPPED), _doc(SNOWFLAKE))
    assert ("request-property-became-not-nullable", "ERR") in [c[:2] for c in got]
    assert ("response-property-became-not-nullable", "INFO") in [c[:2] for c in got]


def test_a_real_union_is_not_a_nullable_wrapper() -> None:
    snowflake = {"$ref": "#/components/schemas/SnowflakeType"}
    union = {"oneOf": [{"type": "null"}, {"type": "integer"}, snowflake]}
    got = _changes(_doc(INLINE_31), _doc(union))
    # Still nullable through its null member, which is neither added nor removed.
    assert not [c for c in got if "nullable" in c[0]]
    assert ("request-property-one-of-added", "INFO") in [c[:2] for c in got]
    assert _changes(_doc(union), _doc({**union, "oneOf": union["oneOf"][1:]})) == [
        (
            "request-property-became-not-nullable",
            "ERR",
            "request body application/json property 'recipient_id'",
        ),
        (
            "response-property-became-not-nullable",
            "INFO",
            "response 200 application/json property 'recipient_id'",
        ),
    ]


def test_a_wrapper_reached_through_a_ref_and_a_wrapped_parameter() -> None:
    old = _doc(INLINE_31)
    new = _doc({"$ref": "#/components/schemas/NullableSnowflake"})
    new["components"]["schemas"]["NullableSnowflake"] = WRAPPED
    for doc, schema in ((old, INLINE_31), (new, WRAPPED)):
        op = doc["paths"]["/users/@me/channels"]["post"]
        op["parameters"] = [{"name": "after", "in": "query", "schema": schema}]
    assert [c[0] for c in _changes(old, new)] == [
        "request-parameter-pattern-added",
        "request-property-pattern-added",
    ]
