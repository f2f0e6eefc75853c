"""Pairwise walk of two JSON schemas, reporting oasdiff-style changes.

The walker is told the direction (request or response) and only states the *effect* of
each change (narrows / widens / a fixed level); :mod:`.report` turns that into a level.
The top-level schema of a body or parameter reports ``<root>-...`` ids (``request-body-``),
anything nested reports ``<prop>-...`` ids (``request-property-``), as oasdiff does.
"""

from __future__ import annotations

from typing import Any

from .keywords import Child, Record, is_json
from .model import Resolver
from .nullable import NullableViews
from .report import ERR, INFO, WARN, Collector, SchemaCtx
from .type_format import TypeFormatChecks

__all__ = ["SchemaDiffer"]

# Deeper than this the walk stops: real schemas never get here, cyclic expansions might.
MAX_WALK_DEPTH = 64


# A walk's records carry the pair they belong to, so a replay can skip visited pairs.
WalkRecord = tuple[str, str, str, tuple[str, ...], tuple[int, int]]
Walk = tuple[list[WalkRecord], frozenset[tuple[int, int]]]


def _merge_all_of(schema: dict[str, Any], res: Resolver, depth: int = 0) -> dict[str, Any]:
    """Type, format, nullability, properties and required with its allOf folded in."""
    merged: dict[str, Any] = {"properties": {}, "required": []}
    parts = [res.deref(m) for m in schema.get("allOf") or []] if depth < 8 else []
    for part in [*parts, schema]:
        if not isinstance(part, dict):
            continue
        if part is not schema and part.get("allOf"):
            part = {**part, **_merge_all_of(part, res, depth + 1)}
        for kw in ("type", "format"):
            if kw in part:
                merged[kw] = part[kw]
        if part.get("nullable") is True:
            merged["nullable"] = True
        if isinstance(part.get("properties"), dict):
            merged["properties"].update(part["properties"])
        if isinstance(part.get("required"), list):
            merged["required"].extend(part["required"])
    return merged


def _ctx_key(ctx: SchemaCtx) -> tuple[str, str, bool]:
    """The parts of a context that change what a schema walk reports."""
    return (ctx.direction, ctx.param_in, is_json(ctx.media_type))


class SchemaDiffer(TypeFormatChecks):
    """Compares schemas of the two documents; one instance per diff."""

    def __init__(self, base: Resolver, rev: Resolver, out: Collector) -> None:
        self.base = base
        self.rev = rev
        self.out = out
        self.views_a, self.views_b = NullableViews(base), NullableViews(rev)
        # Memo tables keyed by object ids: both documents outlive the differ.
        self._walks: dict[tuple[Any, ...], Walk] = {}
        self._pairs: dict[tuple[Any, ...], tuple[list[Record], list[Child]]] = {}
        # (the _pairs key is ((id base, id revision), at root, context key))
        self._recs: list[Record] = []
        self._kids: list[Child] = []

    # -- entry point -------------------------------------------------------------
    def compare(self, base: Any, rev: Any, ctx: SchemaCtx) -> None:
        """Compare two (possibly ``$ref``) schemas at the root of ``ctx`` and report."""
        a, b = self.base.deref(base), self.rev.deref(rev)
        if not isinstance(a, dict) or not isinstance(b, dict):
            return
        a, b = self.views_a.view(a), self.views_b.view(b)
        # Many operations share a root schema (a component, the common error object):
        # walk each root pair once per kind of context and replay the result.
        key = (id(a), id(b), True, *_ctx_key(ctx))
        walk = self._walks.get(key)
        if walk is None:
            walk = self._walk(a, b, ctx, at_root=True, use_memo=True)
            self._walks[key] = walk
        # Records of one walk are unique (a pair is reported once, at one path), so they
        # bypass the collector's duplicate check: Stripe's diff emits 200k of them.
        location, operation, api_path = ctx.location, ctx.operation, ctx.path
        changes = self.out.changes
        for rule_id, level, message, prop_path, _pair in walk[0]:
            where = f"{location} property '{'/'.join(prop_path)}'" if prop_path else location
            changes.append(
                {
                    "id": rule_id,
                    "level": level,
                    "message": f"{where}: {message}",
                    "operation": operation,
                    "path": api_path,
                    "location": where,
                }
            )

    def compare_header(self, base: Any, rev: Any, ctx: SchemaCtx) -> None:
        """Type, format and nullability of a response header's schema, nothing else:
        oasdiff has no other rule for a header's value."""
        a, b = self.base.deref(base), self.rev.deref(rev)
        if not isinstance(a, dict) or not isinstance(b, dict):
            return
        self._recs = []
        self._header_types(self.views_a.view(a), self.views_b.view(b), ctx)
        for rule_id, level, message, _path in self._recs:
            self.out.add(
                rule_id,
                level,
                f"{ctx.location}: {message}",
                operation=ctx.operation,
                path=ctx.path,
                location=ctx.location,
            )

    def _component_walk(self, a: dict[str, Any], b: dict[str, Any], ctx: SchemaCtx) -> Walk:
        """A plain walk from a pair of ``$ref`` targets, memoised per context kind."""
        key = (id(a), id(b), False, *_ctx_key(ctx))
        walk = self._walks.get(key)
        if walk is None:
            walk = self._walk(a, b, ctx, at_root=False, use_memo=False)
            self._walks[key] = walk
        return walk

    def _walk(
        self, a: dict[str, Any], b: dict[str, Any], ctx: SchemaCtx, at_root: bool, use_memo: bool
    ) -> Walk:
        """Depth-first walk (explicit stack) from one pair; records with full paths.

        Each pair of schema objects is reported once per walk (at the first path that
        reaches it): that breaks recursive schemas and keeps a component used in many
        places from being reported over and over. With ``use_memo``, a pair reached
        through ``$ref`` on both sides is not walked again but replayed from its own
        memoised walk — Stripe's 400 operations share a few hundred components — keeping
        the same once-per-walk rule by skipping records of pairs already visited.
        """
        out: list[WalkRecord] = []
        visited: set[tuple[int, int]] = set()
        ctx_key = _ctx_key(ctx)
        deref_a, deref_b = self.base.deref, self.rev.deref
        view_a, view_b = self.views_a.view, self.views_b.view
        pairs_memo = self._pairs
        stack: list[tuple[Any, Any, tuple[str, ...], bool, int]] = [(a, b, (), at_root, 0)]
        while stack:
            raw_x, raw_y, path, root, depth = stack.pop()
            if type(raw_x) is not dict or type(raw_y) is not dict or depth > MAX_WALK_DEPTH:
                continue  # boolean schemas (3.1) and the like have nothing to compare
            # Resolve only actual references: most nodes are inline, and this loop is hot.
            x = deref_a(raw_x) if "$ref" in raw_x else raw_x
            y = deref_b(raw_y) if "$ref" in raw_y else raw_y
            if type(x) is not dict or type(y) is not dict:
                continue
            via_refs = x is not raw_x and y is not raw_y
            x, y = view_a(x), view_b(y)
            pair = (id(x), id(y))
            if pair in visited:
                continue
            if use_memo and depth and not root and via_refs:
                records, seen = self._component_walk(x, y, ctx)
                for rule_id, level, message, rel, rec_pair in records:
                    if rec_pair not in visited:
                        out.append((rule_id, level, message, path + rel, rec_pair))
                visited |= seen
                continue
            visited.add(pair)
            cached = pairs_memo.get((pair, root, ctx_key))
            own, kids = cached if cached is not None else self._analyse(x, y, ctx, root)
            for rule_id, level, message, rel in own:
                out.append((rule_id, level, message, path + rel, pair))
            for sub_a, sub_b, rel, sub_root in reversed(kids):
                stack.append((sub_a, sub_b, path + rel, sub_root, depth + 1))
        return out, frozenset(visited)

    def _analyse(
        self, a: dict[str, Any], b: dict[str, Any], ctx: SchemaCtx, at_root: bool
    ) -> tuple[list[Record], list[Child]]:
        """Changes of one pair (paths relative to it) and the sub-pairs to visit; memoised."""
        key = ((id(a), id(b)), at_root, _ctx_key(ctx))
        self._recs, self._kids = [], []
        pp: tuple[str, ...] = ()
        # Wrapping a schema into allOf (or unwrapping it) keeps its properties: compare
        # the merged view so they do not all look removed and re-added.
        has_a, has_b = bool(a.get("allOf")), bool(b.get("allOf"))
        view_a = _merge_all_of(a, self.base) if has_a and not has_b else a
        view_b = _merge_all_of(b, self.rev) if has_b and not has_a else b
        self._types(view_a, view_b, ctx, pp, at_root)
        self._bounds(a, b, ctx, pp, at_root)
        self._values(a, b, ctx, pp, at_root)
        self._presence(a, b, ctx, pp, at_root)
        self._maps(a, b, ctx, pp, at_root)
        self._composition(a, b, ctx, pp, at_root)
        self._properties(view_a, view_b, ctx, pp)
        for kw in ("items", "additionalProperties", "not"):
            if isinstance(a.get(kw), dict) and isinstance(b.get(kw), dict):
                sub = pp if kw == "not" else (*pp, kw)
                # oasdiff reports a parameter's array items as the parameter itself.
                same_level = at_root and kw == "items" and bool(ctx.param_in)
                self._kids.append((a[kw], b[kw], sub, same_level))
        result = (self._recs, self._kids)
        self._pairs[key] = result
        return result

    def _properties(
        self,
        a: dict[str, Any],
        b: dict[str, Any],
        ctx: SchemaCtx,
        pp: tuple[str, ...],
    ) -> None:
        va, vb = a.get("properties"), b.get("properties")
        pa = va if isinstance(va, dict) else {}
        pb = vb if isinstance(vb, dict) else {}
        if not pa and not pb:
            return
        ra = set(a.get("required") or []) if isinstance(a.get("required"), list) else set()
        rb = set(b.get("required") or []) if isinstance(b.get("required"), list) else set()
        request = ctx.direction == "request"
        for name in [n for n in pa if n not in pb]:
            prop = self.base.deref(pa[name]) or {}
            sub = (*pp, name)
            if request:
                if not prop.get("readOnly"):
                    self._raw(ctx, "request-property-removed", WARN, "property removed", sub)
            elif not prop.get("writeOnly"):
                if name in ra:
                    self._raw(ctx, "response-required-property-removed", ERR, "removed", sub)
                else:
                    self._raw(ctx, "response-optional-property-removed", WARN, "removed", sub)
        for name in [n for n in pb if n not in pa]:
            prop = self.rev.deref(pb[name]) or {}
            sub = (*pp, name)
            if request:
                if prop.get("readOnly"):
                    continue
                if name in rb:
                    rule = "new-required-request-property"
                    if "default" in prop:
                        rule = "new-required-request-property-with-default"
                    self._raw(ctx, rule, ERR, "new required property", sub)
                else:
                    self._raw(ctx, "new-optional-request-property", INFO, "new property", sub)
            elif not prop.get("writeOnly"):
                rule = (
                    "response-required-property-added"
                    if name in rb
                    else "response-optional-property-added"
                )
                self._raw(ctx, rule, INFO, "property added", sub)
        for name in [n for n in pa if n in pb]:
            sub = (*pp, name)
            was, now = name in ra, name in rb
            if was != now:
                prop_b = self.rev.deref(pb[name]) or {}
                skip = prop_b.get("readOnly") if request else prop_b.get("writeOnly")
                if not skip:
                    if request:
                        rule, level = (
                            ("request-property-became-required", ERR)
                            if now
                            else ("request-property-became-optional", INFO)
                        )
                    else:
                        rule, level = (
                            ("response-property-became-required", INFO)
                            if now
                            else ("response-property-became-optional", ERR)
                        )
                    self._raw(ctx, rule, level, rule.split("-", 2)[-1].replace("-", " "), sub)
            self._kids.append((pa[name], pb[name], sub, False))
