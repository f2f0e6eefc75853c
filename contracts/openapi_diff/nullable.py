"""One reading of "nullable X", whichever way a document spells it.

OpenAPI 3.0 writes ``{type: X, nullable: true}``, 3.1 writes ``{type: [X, "null"]}``, and
a ``$ref`` cannot carry a type array, so 3.1 documents also write
``{oneOf: [{type: "null"}, {$ref: X}]}`` (Discord rewrote hundreds of properties that way
in one release). All three accept the same values. The walker compares the *view* of a
null-wrapping ``oneOf``/``anyOf``: its one non-null member marked nullable, so the
rewrite reports nothing, and a constraint that arrived with the member (a ``pattern``, a
``maxLength``) is reported as a change of that property, with the property's rule id. A
union of several members and null is viewed as the union of the others, nullable.
"""

from __future__ import annotations

from typing import Any

from .model import Resolver

__all__ = ["ANNOTATIONS", "NullableViews"]

# Keywords that say something about a schema without constraining its values.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "example",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "default",
        "externalDocs",
        "$comment",
        "xml",
    }
)


def _only_annotations(schema: dict[str, Any], also: frozenset[str]) -> bool:
    return all(k in ANNOTATIONS or k in also or k.startswith("x-") for k in schema)


def _accepts_null(schema: dict[str, Any]) -> bool:
    raw = schema.get("type")
    return (
        schema.get("nullable") is True or raw == "null" or (isinstance(raw, list) and "null" in raw)
    )


class NullableViews:
    """Views of one document's null-wrapping schemas, made once per wrapper.

    The walker keys its memo tables by ``id()``: each view is kept alive here, next to
    its wrapper, for as long as the diff runs, so its id is never reused.
    """

    def __init__(self, res: Resolver) -> None:
        self.res = res
        self._views: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}

    def view(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` itself, or the nullable member it wraps."""
        if "oneOf" not in schema and "anyOf" not in schema:
            return schema  # the common case, kept cheap
        hit = self._views.get(id(schema))
        if hit is None:
            hit = (schema, self._unwrap(schema) or schema)
            self._views[id(schema)] = hit
        return hit[1]

    def _is_null(self, member: Any) -> bool:
        node = self.res.deref(member)
        if not isinstance(node, dict):
            return False
        raw = node.get("type")
        if raw == "null" or raw == ["null"]:
            return _only_annotations(node, frozenset({"type"}))
        if node.get("enum") == [None] or ("const" in node and node["const"] is None):
            return _only_annotations(node, frozenset({"enum", "const"}))
        return False

    def _unwrap(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        keyword = "oneOf" if "oneOf" in schema else "anyOf"
        members = schema[keyword]
        # Anything constraining next to the composition (a type, both oneOf and anyOf)
        # makes it more than a wrapper: compare it as written.
        if not isinstance(members, list) or not _only_annotations(
            schema, frozenset({keyword, "nullable"})
        ):
            return None
        others = [m for m in members if not self._is_null(m)]
        if len(others) == len(members) and schema.get("nullable") is not True:
            return None
        resolved = [self.res.deref(m) for m in others]
        if not others or not all(isinstance(m, dict) for m in resolved):
            return None
        if keyword == "oneOf" and any(_accepts_null(m) for m in resolved):
            return None  # null would match two members: oneOf then rejects it
        wrapper_notes = {k: v for k, v in schema.items() if k in ANNOTATIONS}
        (member, *rest) = resolved
        if rest or "oneOf" in member or "anyOf" in member:
            # A real union that also takes null: the same union of its other members,
            # nullable, so the null member is neither "removed" nor "added".
            return {**wrapper_notes, keyword: others, "nullable": True}
        return {**member, **wrapper_notes, "nullable": True}
