"""Finding places in a real spec and editing one of them without copying the spec.

A place is a tuple of keys from the document's root as a client reads it: each ``$ref``
on the way is followed. Editing a place copies only the containers on that way and
inlines every ``$ref`` it passes, so the edit lands in that one operation even when the
schema it reached is a component shared with others (a request-side edit must not leak
into a response that uses the same component). Everything off the way stays shared with
the original, which is what makes one edit of a 3.6 MB spec cost microseconds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

Place = tuple[str | int, ...]
Node = dict[str, Any]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SUCCESS = ("200", "201", "202")


class Spec:
    """One parsed spec, read through its ``$ref``s, and edited by copying a way through it."""

    def __init__(self, name: str, doc: Node) -> None:
        self.name = name
        self.doc = doc

    def deref(self, node: Any) -> Any:
        hops = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and hops < 32:
            target: Any = self.doc
            for raw in node["$ref"].lstrip("#/").split("/"):
                key = raw.replace("~1", "/").replace("~0", "~")
                target = target.get(key) if isinstance(target, dict) else None
            node, hops = target, hops + 1
        return node

    def at(self, place: Place) -> Any:
        node: Any = self.doc
        for key in place:
            if isinstance(node, list):
                node = node[key] if isinstance(key, int) and key < len(node) else None
            elif isinstance(node, dict):
                node = node.get(key)
            else:
                return None
            node = self.deref(node)
        return node

    def edit(self, place: Place, change: Callable[[Any], None]) -> Node:
        """A new root where ``change`` was applied to a private copy of the node at ``place``."""
        root = copy.copy(self.doc)
        node: Any = root
        for key in place:
            child = copy.copy(self.deref(node[key]))
            node[key] = child
            node = child
        change(node)
        return root

    # -- operations, in document order -------------------------------------------------

    def operations(self) -> Iterator[Place]:
        for path, item in (self.doc.get("paths") or {}).items():
            for method in self.deref(item) or {}:
                if method in METHODS:
                    yield ("paths", path, method)

    def parameters(self, op: Place) -> Iterator[Place]:
        """The operation's own parameters (path-level ones are left alone)."""
        for index, _ in enumerate(self.at((*op, "parameters")) or []):
            yield (*op, "parameters", index)

    def request_schema(self, op: Place) -> Place | None:
        content = self.at((*op, "requestBody", "content")) or {}
        for media_type in content:
            return (*op, "requestBody", "content", media_type, "schema")
        return None

    def success_response(self, op: Place) -> Place | None:
        responses = self.at((*op, "responses")) or {}
        return next(((*op, "responses", code) for code in SUCCESS if code in responses), None)

    def response_schema(self, op: Place) -> Place | None:
        response = self.success_response(op)
        if response is None:
            return None
        for media_type in self.at((*response, "content")) or {}:
            if "json" in media_type:
                return (*response, "content", media_type, "schema")
        return None

    def properties(self, schema: Place) -> Iterator[tuple[Place, str, Node, bool]]:
        """``(place, name, schema, required)`` of each top-level property of an object."""
        node = self.at(schema) or {}
        required = set(node.get("required") or [])
        for name in node.get("properties") or {}:
            prop = self.at((*schema, "properties", name))
            if isinstance(prop, dict):
                yield (*schema, "properties", name), name, prop, name in required

    # -- the first place that fits, in document order ----------------------------------

    def first_operation(self, fits: Callable[[Place], bool]) -> Place | None:
        return next((op for op in self.operations() if fits(op)), None)

    def first_property(
        self, side: str, fits: Callable[[Node, bool], bool]
    ) -> tuple[Place, Place, str] | None:
        """``(schema, property, name)`` of the first request or response property that fits."""
        for op in self.operations():
            schema = self.request_schema(op) if side == "request" else self.response_schema(op)
            if schema is None:
                continue
            for place, name, prop, required in self.properties(schema):
                if fits(prop, required):
                    return schema, place, name
        return None

    def first_parameter(self, fits: Callable[[Node], bool]) -> Place | None:
        for op in self.operations():
            for place in self.parameters(op):
                param = self.at(place)
                if isinstance(param, dict) and fits(param):
                    return place
        return None


def type_of(schema: Node) -> str | None:
    """The one non-null type of a schema (3.0 ``type``, or a 3.1 ``[type, "null"]`` list)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        named = [k for k in kind if k != "null"]
        return named[0] if len(named) == 1 else None
    return kind if isinstance(kind, str) else None


def is_nullable(schema: Node) -> bool:
    kind = schema.get("type")
    return schema.get("nullable") is True or (isinstance(kind, list) and "null" in kind)


def plain(schema: Node, kind: str) -> bool:
    """A scalar of ``kind`` with no composition, so an edit of it reads as one change."""
    return type_of(schema) == kind and not any(
        k in schema for k in ("oneOf", "anyOf", "allOf", "$ref")
    )
