"""Breaking kinds: each edit with the oasdiff rule (ERR or WARN in oasdiff's current
rules file) it must produce. Bounds a spec lacks are first added to a base, then changed."""

from __future__ import annotations

from . import operations as op
from .edits import (
    ADDED,
    ARRAY,
    ENUM_STRING,
    INTEGER,
    NO_PATTERN,
    STRING,
    Mutation,
    add_enum_value,
    add_required,
    append_variant,
    composed,
    drop_last,
    drop_last_enum,
    has_enum,
    integer,
    nullable_property,
    on_object,
    on_parameter,
    on_property,
    on_required_property,
    plain_integer,
    plain_string,
    query,
    query_param,
    remove_property,
    require,
    retype,
    setter,
    string,
    unrequire,
)

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
        on_property("request", STRING, setter(format="date"), setter(format="date-time")),
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
        on_property("request", ENUM_STRING, drop_last_enum),
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
        on_property("request", composed("anyOf"), drop_last("anyOf")),
    ),
    Mutation(
        "request-property-one-of-removed",
        "request oneOf variant removed",
        on_property("request", composed("oneOf"), drop_last("oneOf")),
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
            lambda p: query_param(p) and not p.get("required"),
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
        on_parameter(query(plain_string), retype("integer")),
    ),
    Mutation(
        "request-parameter-enum-value-removed",
        "query parameter enum value removed",
        on_parameter(query(has_enum), drop_last_enum),
    ),
    Mutation(
        "request-parameter-became-enum",
        "query parameter restricted to an enum",
        on_parameter(query(plain_string), setter(enum=["a", "b"])),
    ),
    Mutation(
        "request-parameter-max-length-decreased",
        "query maxLength 100 → 50",
        on_parameter(query(plain_string), setter(maxLength=50), setter(maxLength=100)),
    ),
    Mutation(
        "request-parameter-min-length-increased",
        "query minLength 1 → 2",
        on_parameter(query(plain_string), setter(minLength=2), setter(minLength=1)),
    ),
    Mutation(
        "request-parameter-max-decreased",
        "query maximum 100 → 50",
        on_parameter(query(plain_integer), setter(maximum=50), setter(maximum=100)),
    ),
    Mutation(
        "request-parameter-min-increased",
        "query minimum 0 → 1",
        on_parameter(query(plain_integer), setter(minimum=1), setter(minimum=0)),
    ),
    Mutation(
        "request-parameter-pattern-added",
        "query pattern added",
        on_parameter(
            query(lambda s: plain_string(s) and "pattern" not in s), setter(pattern="^[a-z]+$")
        ),
    ),
    Mutation(
        "request-parameter-pattern-changed",
        "query pattern changed",
        on_parameter(
            query(plain_string), setter(pattern="^[a-z]+$"), setter(pattern="^[a-z0-9]+$")
        ),
    ),
    Mutation(
        "request-parameter-max-set",
        "query maximum set",
        on_parameter(query(lambda s: plain_integer(s) and "maximum" not in s), setter(maximum=10)),
    ),
    Mutation(
        "request-parameter-max-length-set",
        "query maxLength set",
        on_parameter(
            query(lambda s: plain_string(s) and "maxLength" not in s), setter(maxLength=10)
        ),
    ),
    Mutation(
        "request-parameter-default-value-changed",
        "query default 10 → 20",
        on_parameter(query(plain_integer), setter(default=20), setter(default=10)),
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
        on_property("response", STRING, setter(format="date-time"), setter(format="date")),
    ),
    Mutation(
        "response-property-became-nullable",
        "response property made nullable",
        nullable_property("response", to_nullable=True),
    ),
    Mutation(
        "response-property-enum-value-added",
        "response enum value added",
        on_property("response", ENUM_STRING, add_enum_value),
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
        on_property("response", composed("oneOf"), append_variant("oneOf")),
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
        # A bare string -> integer is compatible for oasdiff (a header is text on the wire);
        # a string parsed as a date that becomes an integer is not (Retry-After).
        "response header date-time string → integer",
        op.on_success(
            op.header(required=True, kind="integer"), op.header(required=True, fmt="date-time")
        ),
    ),
]
