"""Every rule id the OpenAPI diff may emit: one registry, checked at each emit site.

oasdiff's rules file is the source of truth for ids and levels (a copy of it, with the
commit it was read from, is ``tests/data/oasdiff-rules/rules.json``; the suite holds this
registry to it). Ids oasdiff has no rule for are listed in :data:`OUR_ADDITIONS` with the
reason we report them anyway. Ids we emitted before aligning with oasdiff are kept in
:data:`RENAMED` so contract versions stored with them still read under today's name.
"""

from __future__ import annotations

from itertools import product
from typing import Any

__all__ = [
    "EMITTABLE",
    "FIXED_LEVELS",
    "OASDIFF_COMMIT",
    "OUR_ADDITIONS",
    "RENAMED",
    "UnknownRuleId",
    "checked",
    "current_id",
    "with_current_ids",
]

OASDIFF_COMMIT = "4553c69d3869ee555ee4f00831d8cca6e1c208ff"

# Ids with one fixed level wherever they are emitted (document, operation, property
# presence, response headers, dropped response bounds); the emit site checks the level.
FIXED_LEVELS: dict[str, str] = {
    "api-deprecated-sunset-parse": "ERR",
    "api-global-security-added": "INFO",
    "api-global-security-removed": "INFO",
    "api-global-security-scope-added": "INFO",
    "api-global-security-scope-removed": "INFO",
    "api-operation-id-added": "INFO",
    "api-operation-id-removed": "INFO",
    "api-path-removed-before-sunset": "ERR",
    "api-path-removed-with-deprecation": "INFO",
    "api-path-removed-without-deprecation": "ERR",
    "api-path-sunset-parse": "ERR",
    "api-removed-before-sunset": "ERR",
    "api-removed-with-deprecation": "INFO",
    "api-removed-without-deprecation": "ERR",
    "api-security-added": "INFO",
    "api-security-component-added": "INFO",
    "api-security-component-oauth-scope-added": "INFO",
    "api-security-component-oauth-scope-changed": "INFO",
    "api-security-component-oauth-scope-removed": "INFO",
    "api-security-component-oauth-token-url-changed": "INFO",
    "api-security-component-oauth-url-changed": "INFO",
    "api-security-component-removed": "INFO",
    "api-security-component-type-changed": "INFO",
    "api-security-removed": "INFO",
    "api-security-scope-added": "INFO",
    "api-security-scope-removed": "INFO",
    "api-stability-decreased": "ERR",
    "api-stability-increased": "INFO",
    "api-sunset-date-changed-too-small": "ERR",
    "api-sunset-date-too-small": "ERR",
    "api-tag-added": "INFO",
    "api-tag-removed": "INFO",
    "endpoint-added": "INFO",
    "endpoint-deprecated": "INFO",
    "endpoint-deprecated-with-sunset": "INFO",
    "endpoint-reactivated": "INFO",
    "new-optional-request-parameter": "INFO",
    "new-optional-request-property": "INFO",
    "new-request-path-parameter": "ERR",
    "new-required-request-parameter": "ERR",
    "new-required-request-property": "ERR",
    "new-required-request-property-with-default": "ERR",
    "optional-response-header-removed": "WARN",
    "request-body-added-optional": "INFO",
    "request-body-added-required": "ERR",
    "request-body-became-optional": "INFO",
    "request-body-became-required": "ERR",
    "request-body-media-type-added": "INFO",
    "request-body-media-type-removed": "ERR",
    "request-body-removed": "ERR",
    "request-parameter-became-optional": "INFO",
    "request-parameter-became-required": "ERR",
    "request-parameter-deprecated": "INFO",
    "request-parameter-reactivated": "INFO",
    "request-parameter-removed": "WARN",
    "request-parameter-removed-before-sunset": "ERR",
    "request-parameter-removed-with-deprecation": "INFO",
    "request-parameter-sunset-date-changed-too-small": "ERR",
    "request-parameter-sunset-date-too-small": "ERR",
    "request-parameter-sunset-deleted": "ERR",
    "request-parameter-sunset-parse": "ERR",
    "request-property-became-optional": "INFO",
    "request-property-became-required": "ERR",
    "request-property-removed": "WARN",
    "required-response-header-removed": "ERR",
    "response-body-max-length-unset": "ERR",
    "response-body-min-items-unset": "ERR",
    "response-header-became-not-nullable": "INFO",
    "response-header-became-nullable": "ERR",
    "response-header-became-optional": "ERR",
    "response-header-type-changed": "ERR",
    "response-header-type-compatible": "INFO",
    "response-header-type-generalized": "ERR",
    "response-header-type-specialized": "INFO",
    "response-media-type-added": "INFO",
    "response-media-type-removed": "ERR",
    "response-non-success-status-added": "INFO",
    "response-non-success-status-removed": "INFO",
    "response-optional-property-added": "INFO",
    "response-optional-property-removed": "WARN",
    "response-property-became-optional": "ERR",
    "response-property-became-required": "INFO",
    "response-property-max-length-unset": "ERR",
    "response-property-min-items-unset": "ERR",
    "response-required-property-added": "INFO",
    "response-required-property-removed": "ERR",
    "response-success-status-added": "INFO",
    "response-success-status-removed": "ERR",
    "sunset-deleted": "ERR",
    "webhook-added": "INFO",
    "webhook-removed": "ERR",
}
DOCUMENT_IDS = frozenset(FIXED_LEVELS)

# Schema ids are "<prefix>-<fragment>": the prefix says where the schema sits.
_BODY = ("request-body", "request-property", "response-body", "response-property")
_REQUEST = ("request-body", "request-property", "request-parameter", "request-parameter-property")
_ALL = (*_BODY, "request-parameter", "request-parameter-property")
_BOUND_FRAGMENTS = tuple(
    f"{bound}-{change}"
    for bound in (
        "min",
        "max",
        "exclusive-min",
        "exclusive-max",
        "min-length",
        "max-length",
        "min-items",
        "max-items",
        "min-contains",
        "max-contains",
        "min-properties",
        "max-properties",
    )
    for change in ("set", "increased", "decreased")
)
_ANY_PLACE_FRAGMENTS = (
    *_BOUND_FRAGMENTS,
    "became-nullable",
    "became-not-nullable",
    "type-changed",
    "type-generalized",
    "enum-value-added",
    "enum-value-removed",
    "default-value-changed",
    "const-changed",
    "content-encoding-changed",
    "content-media-type-changed",
    "stability-decreased",
    "all-of-added",
    "all-of-removed",
    "all-of-added-annotation-only",
    "any-of-added",
    "any-of-removed",
    "one-of-added",
    "one-of-removed",
    *(
        f"discriminator-{what}"
        for what in (
            "added",
            "removed",
            "property-name-changed",
            "mapping-added",
            "mapping-deleted",
            "mapping-changed",
        )
    ),
    *(
        f"{keyword}-{change}"
        for keyword in (
            "if",
            "then",
            "else",
            "contains",
            "property-names",
            "unevaluated-items",
            "unevaluated-properties",
            "content-schema",
            "prefix-items",
            "pattern-property",
            "dependent-schema",
            "dependent-required",
        )
        for change in ("added", "removed")
    ),
    "dependent-required-changed",
)
SCHEMA_IDS = frozenset(
    {f"{p}-{f}" for p, f in product(_ALL, _ANY_PLACE_FRAGMENTS)}
    # Only what a request accepts is narrowed by these; responses do not report them.
    | {
        f"{p}-{f}"
        for p, f in product(
            _REQUEST,
            (
                "became-enum",
                "x-extensible-enum-value-removed",
                "pattern-added",
                "pattern-removed",
                "pattern-changed",
            ),
        )
    }
    | {"request-parameter-default-value-added", "request-parameter-default-value-removed"}
    | {"request-body-type-compatible", "response-body-type-compatible"}
    | {"response-body-type-specialized", "response-property-type-specialized"}
    | {"request-parameter-property-type-specialized"}
    | {"request-body-wrapped-in-one-of", "response-body-wrapped-in-one-of"}
)

_PARAM = ("request-parameter", "request-parameter-property")
_RESPONSE = ("response-body", "response-property")


def _family(reason: str, prefixes: tuple[str, ...], fragments: tuple[str, ...]) -> dict[str, str]:
    return {f"{p}-{f}": reason for p, f in product(prefixes, fragments)}


def _changes(*keywords: str, how: tuple[str, ...] = ("added", "removed")) -> tuple[str, ...]:
    return tuple(f"{k}-{h}" for k in keywords for h in how)


# Our own ids: oasdiff has no rule for them. The reason says why we report them anyway.
OUR_ADDITIONS: dict[str, str] = {
    **_family(
        "a keyword oasdiff does not compare at all; reported so the changelog is complete",
        _ALL,
        (
            *_changes("min-properties", "max-properties", how=("set", "increased", "decreased")),
            "min-contains-set",
            "max-contains-set",
            "min-length-set",
            "max-items-set",
        ),
    ),
    **_family(
        "oasdiff compares these keywords in bodies only; in a parameter's schema they "
        "change what a request may send the same way",
        _PARAM,
        (
            *_changes("all-of", "any-of", "one-of", "contains", "content-schema"),
            *_changes("if", "then", "else", "prefix-items", "property-names"),
            *_changes("unevaluated-items", "unevaluated-properties", "pattern-property"),
            *_changes("dependent-required", "dependent-schema"),
            *_changes("discriminator"),
            "discriminator-mapping-added",
            "discriminator-mapping-deleted",
            "discriminator-mapping-changed",
            "discriminator-property-name-changed",
            "dependent-required-changed",
            "all-of-added-annotation-only",
            "const-changed",
            "content-encoding-changed",
            "content-media-type-changed",
            "stability-decreased",
            *_changes("min-contains", "max-contains", how=("increased", "decreased")),
        ),
    ),
    **_family(
        "oasdiff checks a parameter's own bounds and values, not those of a property "
        "inside a deepObject or content parameter; same direction, same level",
        ("request-parameter-property",),
        (
            *_changes("min", "max", "exclusive-min", "exclusive-max", how=("set",)),
            *_changes(
                "min",
                "max",
                "exclusive-min",
                "exclusive-max",
                "min-length",
                how=("increased", "decreased"),
            ),
            *_changes("max-length", "min-items", how=("set", "increased", "decreased")),
            *_changes("max-items", how=("increased", "decreased")),
            *_changes("pattern", how=("added", "removed", "changed")),
            "became-enum",
            "default-value-changed",
            "x-extensible-enum-value-removed",
        ),
    ),
    **_family(
        "a response bound tightened: compatible (INFO); oasdiff reports only the "
        "direction that breaks clients",
        _RESPONSE,
        (
            *_changes(
                "min",
                "max",
                "exclusive-min",
                "exclusive-max",
                "max-length",
                "min-items",
                how=("set",),
            ),
            "min-increased",
            "max-decreased",
            "exclusive-min-increased",
            "exclusive-max-decreased",
            "max-length-decreased",
            "min-length-increased",
            "min-items-increased",
        ),
    ),
    **_family(
        "oasdiff has array-size rules for parameters and for a raised request minItems; "
        "the other directions follow the same narrow/widen logic",
        _BODY,
        ("max-items-increased", "max-items-decreased"),
    ),
    **_family(
        "a request array may hold fewer items: compatible, reported like a widened bound",
        ("request-body", "request-property"),
        ("min-items-decreased",),
    ),
    **_family(
        "oasdiff has this rule for properties and parameters; the body's top-level "
        "schema changes the same way",
        ("request-body",),
        (
            *_changes("pattern", how=("added", "removed", "changed")),
            "enum-value-added",
            "x-extensible-enum-value-removed",
            "stability-decreased",
        ),
    ),
    **_family(
        "oasdiff has this rule for response properties; the body's top-level schema "
        "changes the same way",
        ("response-body",),
        ("enum-value-added", "enum-value-removed", "stability-decreased"),
    ),
    **_family(
        "oasdiff has the stability rule for endpoints and properties; a parameter's "
        "schema can be marked the same way",
        ("request-parameter",),
        ("stability-decreased",),
    ),
}


class UnknownRuleId(ValueError):
    """An emit site used an id (or a level) the registry does not know: a programming error."""


EMITTABLE = DOCUMENT_IDS | SCHEMA_IDS

# Ids stored before the alignment with oasdiff at OASDIFF_COMMIT, and their names now.
RENAMED: dict[str, str] = {
    "added-required-request-body": "request-body-added-required",
    "added-optional-request-body": "request-body-added-optional",
    "api-sunset-deleted": "sunset-deleted",
}


def checked(rule_id: str, level: str) -> str:
    """``rule_id`` itself; :class:`UnknownRuleId` if the registry does not list it, or
    lists it with another level."""
    if rule_id not in EMITTABLE:
        raise UnknownRuleId(rule_id)
    if FIXED_LEVELS.get(rule_id, level) != level:
        raise UnknownRuleId(f"{rule_id} at {level}: the registry says {FIXED_LEVELS[rule_id]}")
    return rule_id


def current_id(rule_id: str) -> str:
    """Today's name of a stored id: renamed ids map forward, every other id is itself."""
    return RENAMED.get(rule_id, rule_id)


def with_current_ids(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored changes under today's ids: renamed ones are copied with the new id."""
    return [
        {**change, "id": RENAMED[change["id"]]} if change.get("id") in RENAMED else change
        for change in changes
    ]
