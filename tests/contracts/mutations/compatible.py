"""Compatible kinds: each edit with the oasdiff INFO rule it must produce, or ``None``
when oasdiff has no rule for it (descriptions). None may report an ERR."""

from __future__ import annotations

from . import operations as op
from .edits import (
    ADDED,
    ENUM_STRING,
    INTEGER,
    NO_PATTERN,
    STRING,
    Mutation,
    add_enum_value,
    add_optional,
    add_required,
    drop_last_enum,
    has_enum,
    nullable_property,
    on_object,
    on_parameter,
    on_property,
    on_required_property,
    plain_integer,
    query,
    query_param,
    require,
    retype,
    setter,
    unrequire,
)

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
        on_property("request", ENUM_STRING, add_enum_value),
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
        on_parameter(query(has_enum), add_enum_value),
    ),
    Mutation(
        "request-parameter-max-increased",
        "query maximum 50 → 100",
        on_parameter(query(plain_integer), setter(maximum=100), setter(maximum=50)),
    ),
    Mutation(
        "request-parameter-became-optional",
        "required query parameter made optional",
        on_parameter(query_param, setter(required=False), setter(required=True), in_schema=False),
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
        on_property("response", ENUM_STRING, drop_last_enum),
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
