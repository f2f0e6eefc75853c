"""Keyword-family checks for the schema walker, one method per family.

Each method looks at one pair of schema objects, records changes through ``_emit`` /
``_raw`` and queues sub-schema pairs on ``_kids``; the walker in :mod:`.schema` decides
where they are visited from. Tables say which way each keyword moves: adding ``if`` or
``contains`` narrows what is valid, adding a ``oneOf`` member widens it.
"""

from __future__ import annotations

from typing import Any

from .model import Resolver
from .nullable import ANNOTATIONS
from .report import ERR, INFO, STABILITY, WARN, SchemaCtx, level_for
from .rules import checked

__all__ = ["KeywordChecks", "is_json"]

# keyword -> (id fragment, "min" | "max")
_BOUNDS = {
    "minimum": ("min", "min"),
    "maximum": ("max", "max"),
    "exclusiveMinimum": ("exclusive-min", "min"),
    "exclusiveMaximum": ("exclusive-max", "max"),
    "minLength": ("min-length", "min"),
    "maxLength": ("max-length", "max"),
    "minItems": ("min-items", "min"),
    "maxItems": ("max-items", "max"),
    "minContains": ("min-contains", "min"),
    "maxContains": ("max-contains", "max"),
    "minProperties": ("min-properties", "min"),
    "maxProperties": ("max-properties", "max"),
}

# Bounds whose removal oasdiff reports in responses (ERR): keyword -> id fragment.
_UNSET_IN_RESPONSES = {"maxLength": "max-length-unset", "minItems": "min-items-unset"}

# Sub-schema keywords whose mere presence constrains instances: adding one narrows.
# keyword -> (id fragment, effect when added, effect when removed)
_PRESENCE = {
    "if": ("if", "narrow", "widen"),
    "then": ("then", "narrow", "widen"),
    "else": ("else", "narrow", "widen"),
    "contains": ("contains", "narrow", "widen"),
    "propertyNames": ("property-names", "narrow", "widen"),
    "unevaluatedItems": ("unevaluated-items", "narrow", "widen"),
    "unevaluatedProperties": ("unevaluated-properties", "narrow", "widen"),
    "contentSchema": ("content-schema", "narrow", "widen"),
    # prefixItems adds positional schemas but lifts the "items" constraint off those
    # positions, which is how oasdiff classifies it (added: widens).
    "prefixItems": ("prefix-items", "widen", "narrow"),
}

# composition keyword -> (fragment, level on add/remove per direction)
_COMPOSITION = {
    "allOf": ("all-of", {"request": (ERR, WARN), "response": (INFO, INFO)}),
    "anyOf": ("any-of", {"request": (INFO, ERR), "response": (INFO, INFO)}),
    "oneOf": ("one-of", {"request": (INFO, ERR), "response": (ERR, INFO)}),
}


def _number(value: Any) -> float | None:
    # 3.0 uses booleans for exclusiveMinimum/Maximum; only numeric bounds are comparable.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def is_json(media_type: str) -> bool:
    """JSON-ish media type (or none given): structure matters, not just the wire string."""
    return not media_type or "json" in media_type


# (rule id, level, message, property path) and (base, revision, path suffix, at root)
Record = tuple[str, str, str, tuple[str, ...]]
Child = tuple[Any, Any, tuple[str, ...], bool]


class KeywordChecks:
    """Mixin with the per-keyword comparisons; state lives in :class:`SchemaDiffer`."""

    base: Resolver
    rev: Resolver
    _recs: list[Record]
    _kids: list[Child]

    def _emit(
        self,
        ctx: SchemaCtx,
        at_root: bool,
        fragment: str,
        effect: str,
        message: str,
        prop_path: tuple[str, ...],
    ) -> None:
        prefix = ctx.root if at_root else ctx.prop
        self._raw(ctx, f"{prefix}-{fragment}", level_for(ctx.direction, effect), message, prop_path)

    def _raw(
        self, ctx: SchemaCtx, rule_id: str, level: str, message: str, prop_path: tuple[str, ...]
    ) -> None:
        self._recs.append((checked(rule_id, level), level, message, prop_path))

    # -- keyword families ----------------------------------------------------------
    def _bounds(
        self, a: dict[str, Any], b: dict[str, Any], ctx: SchemaCtx, pp: tuple[str, ...], root: bool
    ) -> None:
        for kw, (frag, kind) in _BOUNDS.items():
            if kw not in a and kw not in b:
                continue  # the common case: most schemas carry no bounds at all
            va, vb = _number(a.get(kw)), _number(b.get(kw))
            if va == vb:
                continue
            if va is None and vb is not None:
                self._emit(ctx, root, f"{frag}-set", "set", f"{kw} set to {b[kw]}", pp)
                continue
            if vb is None and va is not None:
                self._bound_unset(kw, a[kw], b, ctx, pp, root)
                continue
            if vb is None or va is None:
                continue
            increased = vb > va
            narrows = increased if kind == "min" else not increased
            verb = "increased" if increased else "decreased"
            self._emit(
                ctx,
                root,
                f"{frag}-{verb}",
                "narrow" if narrows else "widen",
                f"{kw} {verb} from {a[kw]} to {b[kw]}",
                pp,
            )

    def _bound_unset(
        self,
        kw: str,
        old: Any,
        b: dict[str, Any],
        ctx: SchemaCtx,
        pp: tuple[str, ...],
        root: bool,
    ) -> None:
        # A dropped bound widens: only a response reader can break, and oasdiff names
        # just these two (a buffer sized for maxLength, code indexing the first items).
        frag = _UNSET_IN_RESPONSES.get(kw)
        if frag and ctx.direction == "response" and (root or not b.get("writeOnly")):
            self._emit(ctx, root, frag, ERR, f"{kw} {old} removed", pp)

    def _values(
        self, a: dict[str, Any], b: dict[str, Any], ctx: SchemaCtx, pp: tuple[str, ...], root: bool
    ) -> None:
        request = ctx.direction == "request"
        ea, eb = a.get("enum"), b.get("enum")
        if isinstance(eb, list) and not isinstance(ea, list) and request:
            self._emit(ctx, root, "became-enum", ERR, "became an enum", pp)
        if isinstance(ea, list) and isinstance(eb, list):
            for value in ea:
                if value not in eb:
                    level = ERR if request else INFO
                    self._emit(
                        ctx, root, "enum-value-removed", level, f"enum value {value!r} removed", pp
                    )
            for value in eb:
                if value not in ea:
                    level = INFO if request else WARN
                    self._emit(
                        ctx, root, "enum-value-added", level, f"enum value {value!r} added", pp
                    )
        xa, xb = a.get("x-extensible-enum"), b.get("x-extensible-enum")
        if request and isinstance(xa, list) and isinstance(xb, list):
            for value in xa:
                if value not in xb:
                    self._emit(
                        ctx,
                        root,
                        "x-extensible-enum-value-removed",
                        ERR,
                        f"x-extensible-enum value {value!r} removed",
                        pp,
                    )
        # An empty pattern matches everything: it is the same as no pattern.
        pa, pb = a.get("pattern") or None, b.get("pattern") or None
        if request and pa != pb:
            if pa is None:
                self._emit(ctx, root, "pattern-added", ERR, f"pattern {pb!r} added", pp)
            elif pb is None:
                self._emit(ctx, root, "pattern-removed", INFO, f"pattern {pa!r} removed", pp)
            else:
                self._emit(
                    ctx, root, "pattern-changed", WARN, f"pattern changed {pa!r} -> {pb!r}", pp
                )
        if "default" in a or "default" in b:
            da, db = a.get("default"), b.get("default")
            if da != db or ("default" in a) != ("default" in b):
                # A changed parameter default silently changes what a request means.
                is_param = bool(ctx.param_in) and root
                level = ERR if is_param else INFO
                if "default" in a and "default" in b:
                    frag = "default-value-changed"
                else:
                    frag = "default-value-added" if "default" in b else "default-value-removed"
                if is_param or frag == "default-value-changed":
                    self._emit(ctx, root, frag, level, f"default {da!r} -> {db!r}", pp)
        if "const" in a and "const" in b and a["const"] != b["const"]:
            self._emit(ctx, root, "const-changed", ERR, "const value changed", pp)
        for kw, frag in (
            ("contentEncoding", "content-encoding-changed"),
            ("contentMediaType", "content-media-type-changed"),
        ):
            if kw in a and kw in b and a[kw] != b[kw]:
                self._emit(ctx, root, frag, ERR, f"{kw} {a.get(kw)!r} -> {b.get(kw)!r}", pp)
        self._discriminator(a, b, ctx, pp, root)
        sa, sb = a.get("x-stability-level"), b.get("x-stability-level")
        if sa in STABILITY and sb in STABILITY and STABILITY[sb] < STABILITY[sa]:
            self._emit(ctx, root, "stability-decreased", ERR, f"stability {sa} -> {sb}", pp)

    def _discriminator(
        self, a: dict[str, Any], b: dict[str, Any], ctx: SchemaCtx, pp: tuple[str, ...], root: bool
    ) -> None:
        da, db = a.get("discriminator"), b.get("discriminator")
        if not isinstance(da, dict) and not isinstance(db, dict):
            return
        if not isinstance(da, dict):
            self._emit(ctx, root, "discriminator-added", INFO, "discriminator added", pp)
            return
        if not isinstance(db, dict):
            self._emit(ctx, root, "discriminator-removed", INFO, "discriminator removed", pp)
            return
        if da.get("propertyName") != db.get("propertyName"):
            self._emit(
                ctx,
                root,
                "discriminator-property-name-changed",
                INFO,
                f"discriminator property {da.get('propertyName')!r} -> {db.get('propertyName')!r}",
                pp,
            )
        ma, mb = da.get("mapping") or {}, db.get("mapping") or {}
        for k in [k for k in ma if k not in mb]:
            self._emit(ctx, root, "discriminator-mapping-deleted", INFO, f"mapping {k!r}", pp)
        for k in [k for k in mb if k not in ma]:
            self._emit(ctx, root, "discriminator-mapping-added", INFO, f"mapping {k!r}", pp)
        for k in [k for k in ma if k in mb]:
            if ma[k] != mb[k]:
                self._emit(ctx, root, "discriminator-mapping-changed", INFO, f"mapping {k!r}", pp)

    def _presence(
        self,
        a: dict[str, Any],
        b: dict[str, Any],
        ctx: SchemaCtx,
        pp: tuple[str, ...],
        root: bool,
    ) -> None:
        for kw, (frag, on_add, on_remove) in _PRESENCE.items():
            has_a, has_b = kw in a, kw in b
            if has_a and not has_b:
                self._emit(ctx, root, f"{frag}-removed", on_remove, f"{kw} removed", pp)
            elif has_b and not has_a:
                self._emit(ctx, root, f"{frag}-added", on_add, f"{kw} added", pp)
            elif has_a and has_b:
                sub_a, sub_b = a[kw], b[kw]
                if isinstance(sub_a, list) and isinstance(sub_b, list):
                    for i, (x, y) in enumerate(zip(sub_a, sub_b, strict=False)):
                        self._kids.append((x, y, (*pp, f"{kw}[{i}]"), False))
                else:
                    self._kids.append((sub_a, sub_b, (*pp, kw), False))

    def _maps(
        self,
        a: dict[str, Any],
        b: dict[str, Any],
        ctx: SchemaCtx,
        pp: tuple[str, ...],
        root: bool,
    ) -> None:
        for kw, frag, recurse in (
            ("patternProperties", "pattern-property", True),
            ("dependentSchemas", "dependent-schema", True),
            ("dependentRequired", "dependent-required", False),
        ):
            ma, mb = a.get(kw), b.get(kw)
            if not isinstance(ma, dict) and not isinstance(mb, dict):
                continue
            ma, mb = ma if isinstance(ma, dict) else {}, mb if isinstance(mb, dict) else {}
            for k in [k for k in ma if k not in mb]:
                self._emit(ctx, root, f"{frag}-removed", "widen", f"{kw} {k!r} removed", pp)
            for k in [k for k in mb if k not in ma]:
                self._emit(ctx, root, f"{frag}-added", "narrow", f"{kw} {k!r} added", pp)
            for k in [k for k in ma if k in mb]:
                if recurse:
                    self._kids.append((ma[k], mb[k], (*pp, k), False))
                elif ma[k] != mb[k]:
                    self._emit(ctx, root, f"{frag}-changed", ERR, f"{kw} {k!r} changed", pp)

    def _composition(
        self,
        a: dict[str, Any],
        b: dict[str, Any],
        ctx: SchemaCtx,
        pp: tuple[str, ...],
        root: bool,
    ) -> None:
        for kw, (frag, levels) in _COMPOSITION.items():
            va, vb = a.get(kw), b.get(kw)
            la = va if isinstance(va, list) else []
            lb = vb if isinstance(vb, list) else []
            if not la and not lb:
                continue
            on_add, on_remove = levels[ctx.direction]
            pairs, removed, added = _match_subschemas(la, lb)
            for sub in removed:
                self._emit(
                    ctx, root, f"{frag}-removed", on_remove, f"{kw} {_name(sub)} removed", pp
                )
            for sub in added:
                self._emit(ctx, root, f"{frag}-added", on_add, f"{kw} {_name(sub)} added", pp)
                resolved = self.rev.deref(sub)
                if kw == "allOf" and isinstance(resolved, dict) and set(resolved) <= ANNOTATIONS:
                    self._emit(
                        ctx,
                        root,
                        "all-of-added-annotation-only",
                        INFO,
                        "allOf subschema with annotations only added",
                        pp,
                    )
            for x, y in pairs:
                # Members of a composition describe the same instance: same level, same path.
                self._kids.append((x, y, pp, root))


def _name(sub: Any) -> str:
    if isinstance(sub, dict):
        if isinstance(sub.get("$ref"), str):
            return sub["$ref"].rsplit("/", 1)[-1]
        if sub.get("title"):
            return repr(sub["title"])
    return "subschema"


def _match_subschemas(
    la: list[Any], lb: list[Any]
) -> tuple[list[tuple[Any, Any]], list[Any], list[Any]]:
    """Pair composition members: refs by target, equal inline ones, then inline by order."""
    pairs: list[tuple[Any, Any]] = []
    rest_b = list(lb)
    unmatched_a: list[Any] = []
    for x in la:
        hit = next((y for y in rest_b if _same_ref(x, y) or x == y), None)
        if hit is None:
            unmatched_a.append(x)
        else:
            pairs.append((x, hit))
            rest_b.remove(hit)
    inline_a = [x for x in unmatched_a if not _is_ref(x)]
    inline_b = [y for y in rest_b if not _is_ref(y)]
    # Inline members changed in place: compare them in order rather than calling them
    # removed and added.
    for x, y in zip(inline_a, inline_b, strict=False):
        pairs.append((x, y))
    n = min(len(inline_a), len(inline_b))
    removed = [x for x in unmatched_a if _is_ref(x)] + inline_a[n:]
    added = [y for y in rest_b if _is_ref(y)] + inline_b[n:]
    return pairs, removed, added


def _is_ref(x: Any) -> bool:
    return isinstance(x, dict) and isinstance(x.get("$ref"), str)


def _same_ref(x: Any, y: Any) -> bool:
    return _is_ref(x) and _is_ref(y) and x["$ref"] == y["$ref"]
