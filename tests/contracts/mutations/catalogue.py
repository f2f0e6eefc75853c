"""The mutation catalogue: each edit and the oasdiff rule id it must produce.

The level of each rule is not written here: it is read from oasdiff's own rules file
(``tests/data/real-pairs/oasdiff-rule-ids.json``), so a kind is breaking exactly when
oasdiff's current ``checker/rules.go`` makes its rule ERR or WARN. A rule of ``None``
is a compatible edit oasdiff has no rule for (a description), which must report nothing
breaking. Edits go to the first place in document order that fits them.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import operations as op
from .edits import (
    ADDED,
    Change,
    Make,
    PropertyFits,
    add_optional,
    add_required,
    integer,
    nullable_property,
    of_type,
    on_object,
    on_parameter,
    on_property,
    on_required_property,
    query,
    remove_property,
    require,
    retype,
    setter,
    string,
    unrequire,
)
from .sites import Node, plain


@dataclass(frozen=True)
class Mutation:
    rule: str | None
    what: str
    make: Make


def _has_enum(node: Node) -> bool:
    return isinstance(node.get("enum"), list) and len(node["enum"]) >= 2


def _drop_last_enum(node: Node) -> None:
    node["enum"] = node["enum"][:-1]


def _add_enum_value(node: Node) -> None:
    node["enum"] = [*node["enum"], ADDED]


def _composed(key: str) -> PropertyFits:
    return lambda prop, required: isinstance(prop.get(key), list) and len(prop[key]) >= 2


def _drop_last(key: str) -> Change:
    return lambda node: node.update({key: node[key][:-1]})


def _append_variant(key: str) -> Change:
    return lambda node: node.update({key: [*node[key], {"type": "boolean"}]})


def _plain_string(schema: Node) -> bool:
    return plain(schema, "string") and "enum" not in schema


def _plain_integer(schema: Node) -> bool:
    return plain(schema, "integer") and "enum" not in schema


def _query_param(param: Node) -> bool:
    return param.get("in") == "query"


STRING, INTEGER, ARRAY = string(), integer(), of_type("array")
ENUM_STRING = lambda prop, required: plain(prop, "string") and _has_enum(prop)  # noqa: E731
NO_PATTERN = string(lambda s: "pattern" not in s)
DATE_TIME = lambda prop, required: plain(prop, "string") and prop.get("format") == "date-time"  # noqa: E731

BREAKING: list[Mutation] = [
    # paths and operations
    Mutation("api-path-removed-without-deprecation", "remove the first path", op.remove_path),
    Mutation(
        "api-removed-without-deprecation",
        "remove one operation of a path with several",
        op.remove_operation,
    ),
    Mutation(
        "api-stability-decreased",
        "x-stability-level stable → beta",
        op.on_op(
            setter(**{"x-stability-level": "beta"}), setter(**{"x-stability-level": "stable"})
        ),
    ),
    # request body
    Mutation(
        "request-body-became-required",
        "optional request body made required",
        op.on_body(op.body_fits_optional, setter(required=True)),
    ),
    Mutation(
        "request-body-added-required",
        "required JSON body added to a POST/PUT without one",
        op.on_operation_without_body(setter(requestBody=op.NEW_BODY)),
    ),
    Mutation(
        "request-body-media-type-removed",
        "first of several request media types removed",
        op.on_body(op.body_has_media_types, op.remove_first_media_type),
    ),
    Mutation(
        "request-body-type-changed",
        "request body object → array",
        op.on_schema("request", setter(type="array", items={"type": "string"})),
    ),
    # request properties
    Mutation(
        "new-required-request-property",
        "required request property added",
        on_object("request", add_required(ADDED)),
    ),
    Mutation(
        "request-property-became-required",
        "optional request property made required",
        on_object("request", require),
    ),
    Mutation(
        "request-property-removed",
        "optional request property removed",
        on_object("request", remove_property),
    ),
    Mutation(
        "request-property-type-changed",
        "request property string → integer",
        on_property("request", STRING, retype("integer")),
    ),
    Mutation(
        "request-property-type-changed",
        "request property format date-time → date",
        on_property("request", DATE_TIME, setter(format="date")),
    ),
    Mutation(
        "request-property-max-length-decreased",
        "request maxLength 100 → 50",
        on_property("request", STRING, setter(maxLength=50), setter(maxLength=100)),
    ),
    Mutation(
        "request-property-min-length-increased",
        "request minLength 1 → 2",
        on_property("request", STRING, setter(minLength=2), setter(minLength=1)),
    ),
    Mutation(
        "request-property-max-decreased",
        "request maximum 100 → 50",
        on_property("request", INTEGER, setter(maximum=50), setter(maximum=100)),
    ),
    Mutation(
        "request-property-min-increased",
        "request minimum 0 → 1",
        on_property("request", INTEGER, setter(minimum=1), setter(minimum=0)),
    ),
    Mutation(
        "request-property-min-items-increased",
        "request minItems 1 → 2",
        on_property("request", ARRAY, setter(minItems=2), setter(minItems=1)),
    ),
    Mutation(
        "request-property-enum-value-removed",
        "request enum value removed",
        on_property("request", ENUM_STRING, _drop_last_enum),
    ),
    Mutation(
        "request-property-became-enum",
        "request string restricted to an enum",
        on_property("request", STRING, setter(enum=["a", "b"])),
    ),
    Mutation(
        "request-property-pattern-added",
        "request pattern added",
        on_property("request", NO_PATTERN, setter(pattern="^[a-z]+$")),
    ),
    Mutation(
        "request-property-pattern-changed",
        "request pattern changed",
        on_property(
            "request", NO_PATTERN, setter(pattern="^[a-z]+$"), setter(pattern="^[a-z0-9]+$")
        ),
    ),
    Mutation(
        "request-property-max-length-set",
        "request maxLength set",
        on_property("request", string(lambda s: "maxLength" not in s), setter(maxLength=10)),
    ),
    Mutation(
        "request-property-max-set",
        "request maximum set",
        on_property("request", integer(lambda s: "maximum" not in s), setter(maximum=10)),
    ),
    Mutation(
        "request-property-min-set",
        "request minimum set",
        on_property("request", integer(lambda s: "minimum" not in s), setter(minimum=1)),
    ),
    Mutation(
        "request-property-min-items-set",
        "request minItems set",
        on_property("request", ARRAY, setter(minItems=1)),
    ),
    Mutation(
        "request-property-became-not-nullable",
        "nullable request property made not nullable",
        nullable_property("request", to_nullable=False),
    ),
    Mutation(
        "request-property-any-of-removed",
        "request anyOf variant removed",
        on_property("request", _composed("anyOf"), _drop_last("anyOf")),
    ),
    Mutation(
        "request-property-one-of-removed",
        "request oneOf variant removed",
        on_property("request", _composed("oneOf"), _drop_last("oneOf")),
    ),
    # request parameters
    Mutation(
        "new-required-request-parameter",
        "required query parameter added",
        op.on_op(op.parameter(required=True)),
    ),
    Mutation(
        "request-parameter-became-required",
        "optional query parameter made required",
        on_parameter(
            lambda p: _query_param(p) and not p.get("required"),
            setter(required=True),
            in_schema=False,
        ),
    ),
    Mutation(
        "request-parameter-removed",
        "query parameter removed",
        op.remove_query_parameter(deprecated_first=False),
    ),
    Mutation(
        "request-parameter-removed-before-sunset",
        "deprecated query parameter removed before its sunset",
        op.remove_query_parameter(deprecated_first=True),
    ),
    Mutation(
        "request-parameter-type-changed",
        "query parameter string → integer",
        on_parameter(query(_plain_string), retype("integer")),
    ),
    Mutation(
        "request-parameter-enum-value-removed",
        "query parameter enum value removed",
        on_parameter(query(_has_enum), _drop_last_enum),
    ),
    Mutation(
        "request-parameter-became-enum",
        "query parameter restricted to an enum",
        on_parameter(query(_plain_string), setter(enum=["a", "b"])),
    ),
    Mutation(
        "request-parameter-max-length-decreased",
        "query maxLength 100 → 50",
        on_parameter(query(_plain_string), setter(maxLength=50), setter(maxLength=100)),
    ),
    Mutation(
        "request-parameter-min-length-increased",
        "query minLength 1 → 2",
        on_parameter(query(_plain_string), setter(minLength=2), setter(minLength=1)),
    ),
    Mutation(
        "request-parameter-max-decreased",
        "query maximum 100 → 50",
        on_parameter(query(_plain_integer), setter(maximum=50), setter(maximum=100)),
    ),
    Mutation(
        "request-parameter-min-increased",
        "query minimum 0 → 1",
        on_parameter(query(_plain_integer), setter(minimum=1), setter(minimum=0)),
    ),
    Mutation(
        "request-parameter-pattern-added",
        "query pattern added",
        on_parameter(
            query(lambda s: _plain_string(s) and "pattern" not in s), setter(pattern="^[a-z]+$")
        ),
    ),
    Mutation(
        "request-parameter-pattern-changed",
        "query pattern changed",
        on_parameter(
            query(_plain_string), setter(pattern="^[a-z]+$"), setter(pattern="^[a-z0-9]+$")
        ),
    ),
    Mutation(
        "request-parameter-max-set",
        "query maximum set",
        on_parameter(query(lambda s: _plain_integer(s) and "maximum" not in s), setter(maximum=10)),
    ),
    Mutation(
        "request-parameter-max-length-set",
        "query maxLength set",
        on_parameter(
            query(lambda s: _plain_string(s) and "maxLength" not in s), setter(maxLength=10)
        ),
    ),
    Mutation(
        "request-parameter-default-value-changed",
        "query default 10 → 20",
        on_parameter(query(_plain_integer), setter(default=20), setter(default=10)),
    ),
    # responses
    Mutation("response-success-status-removed", "success status removed", op.remove_success),
    Mutation(
        "response-media-type-removed",
        "success media type removed",
        op.on_success(op.remove_first_media_type, with_content=True),
    ),
    Mutation(
        "response-body-type-changed",
        "response body object → string",
        op.on_schema("response", setter(type="string")),
    ),
    Mutation(
        "response-required-property-removed",
        "required response property removed",
        on_required_property("response", remove_property),
    ),
    Mutation(
        "response-optional-property-removed",
        "optional response property removed",
        on_object("response", remove_property),
    ),
    Mutation(
        "response-property-became-optional",
        "required response property made optional",
        on_required_property("response", unrequire),
    ),
    Mutation(
        "response-property-type-changed",
        "response property string → integer",
        on_property("response", STRING, retype("integer")),
    ),
    Mutation(
        "response-property-type-changed",
        "response property format date → date-time",
        on_property("response", DATE_TIME, setter(format="date-time"), setter(format="date")),
    ),
    Mutation(
        "response-property-became-nullable",
        "response property made nullable",
        nullable_property("response", to_nullable=True),
    ),
    Mutation(
        "response-property-enum-value-added",
        "response enum value added",
        on_property("response", ENUM_STRING, _add_enum_value),
    ),
    Mutation(
        "response-property-max-length-increased",
        "response maxLength 50 → 100",
        on_property("response", STRING, setter(maxLength=100), setter(maxLength=50)),
    ),
    Mutation(
        "response-property-max-length-unset",
        "response maxLength removed",
        on_property("response", STRING, lambda n: n.pop("maxLength"), setter(maxLength=50)),
    ),
    Mutation(
        "response-property-min-length-decreased",
        "response minLength 2 → 1",
        on_property("response", STRING, setter(minLength=1), setter(minLength=2)),
    ),
    Mutation(
        "response-property-max-increased",
        "response maximum 50 → 100",
        on_property("response", INTEGER, setter(maximum=100), setter(maximum=50)),
    ),
    Mutation(
        "response-property-min-decreased",
        "response minimum 1 → 0",
        on_property("response", INTEGER, setter(minimum=0), setter(minimum=1)),
    ),
    Mutation(
        "response-property-one-of-added",
        "response oneOf variant added",
        on_property("response", _composed("oneOf"), _append_variant("oneOf")),
    ),
    Mutation(
        "required-response-header-removed",
        "required response header removed",
        op.on_success(op.remove_header, op.header(required=True)),
    ),
    Mutation(
        "response-header-became-optional",
        "required response header made optional",
        op.on_success(op.header(required=False), op.header(required=True)),
    ),
    Mutation(
        "response-header-type-changed",
        "response header string → integer",
        op.on_success(op.header(required=True, kind="integer"), op.header(required=True)),
    ),
]

COMPATIBLE: list[Mutation] = [
    Mutation("endpoint-added", "new path", op.add_path),
    Mutation("endpoint-deprecated", "operation deprecated", op.on_op(setter(deprecated=True))),
    Mutation(
        "api-tag-added",
        "tag added to an operation",
        op.on_op(lambda o: o.update(tags=[*o.get("tags", []), ADDED])),
    ),
    Mutation("api-operation-id-removed", "operationId removed", op.on_op(op.remove_operation_id)),
    Mutation(
        "api-security-added",
        "security requirement added to an operation",
        op.on_op(lambda o: o.update(security=[*o.get("security", []), {ADDED: []}])),
    ),
    Mutation(None, "operation description rewritten", op.on_op(setter(description="Rewritten."))),
    Mutation(
        "request-body-became-optional",
        "required request body made optional",
        op.on_body(op.body_fits_required, setter(required=False)),
    ),
    Mutation(
        "request-body-media-type-added",
        "request media type added",
        op.on_body(op.body_fits_required, op.add_media_type),
    ),
    Mutation(
        "new-optional-request-property",
        "optional request property added",
        on_object("request", add_optional),
    ),
    Mutation(
        "new-optional-request-parameter",
        "optional query parameter added",
        op.on_op(op.parameter(required=False)),
    ),
    Mutation(
        "request-property-became-optional",
        "required request property made optional",
        on_required_property("request", unrequire),
    ),
    Mutation(
        "request-property-enum-value-added",
        "request enum value added",
        on_property("request", ENUM_STRING, _add_enum_value),
    ),
    Mutation(
        "request-property-max-length-increased",
        "request maxLength 50 → 100",
        on_property("request", STRING, setter(maxLength=100), setter(maxLength=50)),
    ),
    Mutation(
        "request-property-min-decreased",
        "request minimum 1 → 0",
        on_property("request", INTEGER, setter(minimum=0), setter(minimum=1)),
    ),
    Mutation(
        "request-property-min-length-decreased",
        "request minLength 2 → 1",
        on_property("request", STRING, setter(minLength=1), setter(minLength=2)),
    ),
    Mutation(
        "request-property-pattern-removed",
        "request pattern removed",
        on_property("request", NO_PATTERN, lambda n: n.pop("pattern"), setter(pattern="^[a-z]+$")),
    ),
    Mutation(
        "request-property-type-generalized",
        "request property integer → number",
        on_property("request", INTEGER, retype("number")),
    ),
    Mutation(
        "request-property-became-nullable",
        "request property made nullable",
        nullable_property("request", to_nullable=True),
    ),
    Mutation(
        "request-property-default-value-changed",
        "request default changed",
        on_property("request", STRING, setter(default="b"), setter(default="a")),
    ),
    Mutation(
        None,
        "request property description rewritten",
        on_property("request", STRING, setter(description="Rewritten.")),
    ),
    Mutation(
        "request-parameter-enum-value-added",
        "query parameter enum value added",
        on_parameter(query(_has_enum), _add_enum_value),
    ),
    Mutation(
        "request-parameter-max-increased",
        "query maximum 50 → 100",
        on_parameter(query(_plain_integer), setter(maximum=100), setter(maximum=50)),
    ),
    Mutation(
        "request-parameter-became-optional",
        "required query parameter made optional",
        on_parameter(_query_param, setter(required=False), setter(required=True), in_schema=False),
    ),
    Mutation(
        "response-success-status-added", "success status 202 added", op.status("202", add=True)
    ),
    Mutation("response-non-success-status-added", "status 418 added", op.status("418", add=True)),
    Mutation(
        "response-media-type-added",
        "success media type added",
        op.on_success(op.add_media_type, with_content=True),
    ),
    Mutation(
        "response-optional-property-added",
        "optional response property added",
        on_object("response", add_optional),
    ),
    Mutation(
        "response-required-property-added",
        "required response property added",
        on_object("response", add_required(ADDED)),
    ),
    Mutation(
        "response-property-became-required",
        "optional response property made required",
        on_object("response", require),
    ),
    Mutation(
        "response-property-became-not-nullable",
        "nullable response property made not nullable",
        nullable_property("response", to_nullable=False),
    ),
    Mutation(
        "response-property-enum-value-removed",
        "response enum value removed",
        on_property("response", ENUM_STRING, _drop_last_enum),
    ),
    Mutation(
        "response-property-type-specialized",
        "response property number → integer",
        on_property("response", INTEGER, retype("integer"), retype("number")),
    ),
    Mutation(
        None,
        "response property description rewritten",
        on_property("response", STRING, setter(description="Rewritten.")),
    ),
]
