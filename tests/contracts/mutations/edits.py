"""Building blocks of the mutation catalogue: where an edit goes and what it does there.

Each ``make`` function takes a :class:`Spec` and answers ``(base, revision)`` — the
original and the edited document, or, when the edit needs something the spec does not
have (a bound to lower, a header to remove), a base that first gains it and a revision
that then changes it — or ``None`` when the spec offers no place for the edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .sites import Node, Place, Spec, is_nullable, plain, type_of

Pair = tuple[Node, Node]
Make = Callable[[Spec], Pair | None]
Change = Callable[[Any], None]
PropertyFits = Callable[[Node, bool], bool]

ADDED = "mutation_added"


def pair(spec: Spec, place: Place, change: Change, prepare: Change | None = None) -> Pair:
    """The spec and ``change`` at ``place``; with ``prepare``, a base made by it first."""
    if prepare is None:
        return spec.doc, spec.edit(place, change)
    base = spec.edit(place, prepare)
    return base, Spec(spec.name, base).edit(place, change)


def on_property(
    side: str, fits: PropertyFits, change: Change, prepare: Change | None = None
) -> Make:
    def make(spec: Spec) -> Pair | None:
        found = spec.first_property(side, fits)
        return None if found is None else pair(spec, found[1], change, prepare)

    return make


def on_object(side: str, change: Callable[[Node, str], None]) -> Make:
    """Edit the first request or response schema with an optional property; ``change`` is
    given the schema and that property's name."""

    def make(spec: Spec) -> Pair | None:
        found = spec.first_property(side, lambda prop, required: not required)
        if found is None:
            return None
        schema, _, name = found
        return pair(spec, schema, lambda node: change(node, name))

    return make


def on_required_property(side: str, change: Callable[[Node, str], None]) -> Make:
    def make(spec: Spec) -> Pair | None:
        found = spec.first_property(side, lambda prop, required: required)
        if found is None:
            return None
        schema, _, name = found
        return pair(spec, schema, lambda node: change(node, name))

    return make


def on_parameter(
    fits: Callable[[Node], bool],
    change: Change,
    prepare: Change | None = None,
    *,
    in_schema: bool = True,
) -> Make:
    """Edit the first operation parameter that fits: its schema, or the parameter itself."""

    def make(spec: Spec) -> Pair | None:
        place = spec.first_parameter(fits)
        if place is None:
            return None
        return pair(spec, (*place, "schema") if in_schema else place, change, prepare)

    return make


def query(fits: Callable[[Node], bool]) -> Callable[[Node], bool]:
    """A query parameter whose schema fits (path parameters cannot be edited freely)."""
    return lambda p: (
        p.get("in") == "query" and isinstance(p.get("schema"), dict) and fits(p["schema"])
    )


def string(extra: Callable[[Node], bool] = lambda s: True) -> PropertyFits:
    return lambda prop, required: plain(prop, "string") and "enum" not in prop and extra(prop)


def integer(extra: Callable[[Node], bool] = lambda s: True) -> PropertyFits:
    return lambda prop, required: plain(prop, "integer") and "enum" not in prop and extra(prop)


def of_type(kind: str) -> PropertyFits:
    return lambda prop, required: plain(prop, kind)


def setter(**values: Any) -> Change:
    return lambda node: node.update(values)


def retype(new: str) -> Change:
    """Change the one named type, keeping a 3.1 ``null`` alongside it."""

    def change(node: Node) -> None:
        kind = node.get("type")
        node["type"] = [new if k != "null" else k for k in kind] if isinstance(kind, list) else new

    return change


def make_not_nullable(node: Node) -> None:
    kind = node.get("type")
    if isinstance(kind, list):
        named = [k for k in kind if k != "null"]
        node["type"] = named[0] if len(named) == 1 else named
    node.pop("nullable", None)


def nullable_as_spelt_in(spec: Spec) -> Change:
    """Nullability as the spec's version spells it: a ``null`` in 3.1's type list, 3.0's
    ``nullable`` keyword otherwise (3.1 dropped the keyword, 3.0 has no type lists)."""
    spec_is_31 = str(spec.doc.get("openapi", "")).startswith("3.1")

    def change(node: Node) -> None:
        if spec_is_31:
            node["type"] = [type_of(node), "null"]
        else:
            node["nullable"] = True

    return change


def nullable_property(side: str, to_nullable: bool) -> Make:
    """A property made nullable (or, from a nullable base, not nullable)."""

    def make(spec: Spec) -> Pair | None:
        found = spec.first_property(
            side, lambda p, r: type_of(p) == "string" and not is_nullable(p)
        )
        if found is None:
            return None
        nullable = nullable_as_spelt_in(spec)
        if to_nullable:
            return pair(spec, found[1], nullable)
        return pair(spec, found[1], make_not_nullable, nullable)

    return make


def add_required(name: str) -> Callable[[Node, str], None]:
    def change(node: Node, _: str) -> None:
        node["properties"] = {**node.get("properties", {}), name: {"type": "string"}}
        node["required"] = [*node.get("required", []), name]

    return change


def add_optional(node: Node, _: str) -> None:
    node["properties"] = {**node.get("properties", {}), ADDED: {"type": "string"}}


def require(node: Node, name: str) -> None:
    node["required"] = [*node.get("required", []), name]


def unrequire(node: Node, name: str) -> None:
    node["required"] = [n for n in node.get("required", []) if n != name]


def remove_property(node: Node, name: str) -> None:
    node["properties"] = {k: v for k, v in node["properties"].items() if k != name}
    unrequire(node, name)


@dataclass(frozen=True)
class Mutation:
    rule: str | None
    what: str
    make: Make


def has_enum(node: Node) -> bool:
    return isinstance(node.get("enum"), list) and len(node["enum"]) >= 2


def drop_last_enum(node: Node) -> None:
    node["enum"] = node["enum"][:-1]


def add_enum_value(node: Node) -> None:
    node["enum"] = [*node["enum"], ADDED]


def composed(key: str) -> PropertyFits:
    return lambda prop, required: isinstance(prop.get(key), list) and len(prop[key]) >= 2


def drop_last(key: str) -> Change:
    return lambda node: node.update({key: node[key][:-1]})


def append_variant(key: str) -> Change:
    return lambda node: node.update({key: [*node[key], {"type": "boolean"}]})


def plain_string(schema: Node) -> bool:
    return plain(schema, "string") and "enum" not in schema


def plain_integer(schema: Node) -> bool:
    return plain(schema, "integer") and "enum" not in schema


def query_param(param: Node) -> bool:
    return param.get("in") == "query"


STRING, INTEGER, ARRAY = string(), integer(), of_type("array")
ENUM_STRING = lambda prop, required: plain(prop, "string") and has_enum(prop)  # noqa: E731
NO_PATTERN = string(lambda s: "pattern" not in s)
