"""Type, format and nullability of one schema pair, classified as oasdiff does.

A port of oasdiff's ``checker/check_types.go``: the type axis and the format axis are
judged separately and the change is breaking if either is. Requests are judged toward the
revision (the server must accept what clients send), responses toward the base (clients
must read what the server now sends), so one format change reads opposite ways:
``int32`` → ``int64`` widens a request (``request-property-type-generalized``) but breaks
a response reader that holds 32 bits (``response-property-type-changed``).

One deliberate difference: oasdiff reads a 3.1 ``type: [integer, "null"]`` as two types,
so no format widening counts on a nullable 3.1 schema. Here nullability is its own axis
(3.0 ``nullable``, a ``"null"`` type and a ``oneOf`` null member are the same thing, see
:mod:`.nullable`), and the format is judged against the non-null type.
"""

from __future__ import annotations

from typing import Any

from .keywords import KeywordChecks, is_json
from .report import ERR, INFO, WARN, SchemaCtx

__all__ = ["TypeFormatChecks", "schema_types"]

# Per type, the format changes where every old value is still a valid new one.
_FORMAT_WIDENINGS = {
    "number": {("float", "double")},
    "integer": {("int32", "int64"), ("int32", "bigint"), ("int64", "bigint")},
    "string": {("date", "date-time"), ("time", "date-time")},
}

# Response verdicts: oasdiff's ids and levels (rules.go, ResponsePropertyTypeChangedCheck).
_RESPONSE_LEVELS = {"changed": ERR, "generalized": ERR, "specialized": INFO, "compatible": INFO}


def schema_types(schema: dict[str, Any]) -> tuple[tuple[str, ...], bool]:
    """Declared types without "null" (document order), and whether null is allowed."""
    raw = schema.get("type")
    if isinstance(raw, list):
        declared = [str(t) for t in raw]
    elif isinstance(raw, str):
        declared = [raw]
    else:
        declared = []
    nullable = "null" in declared or schema.get("nullable") is True
    return tuple(dict.fromkeys(t for t in declared if t != "null")), nullable


def _format(schema: dict[str, Any]) -> str:
    value = schema.get("format")
    return value if isinstance(value, str) else ""


def _subtype(sub: str, sup: str) -> bool:
    """Every value of ``sub`` is a value of ``sup`` (integers are numbers)."""
    return sub == sup or (sub == "integer" and sup == "number")


def _covered(sub: tuple[str, ...], sup: tuple[str, ...]) -> bool:
    # An empty ``sub`` (no type: any value) is covered by nothing but "any".
    return bool(sub) and all(any(_subtype(t, s) for s in sup) for t in sub)


def _type_contained(to: list[str], old: list[str], strongly_typed: bool) -> bool:
    """Do the types added (``to``) take every value of the types removed (``old``)?"""
    if len(to) == 1 and len(old) == 1 and _subtype(old[0], to[0]):
        return True
    # On the wire of a text location anything reads as a string.
    return not strongly_typed and (not to or to == ["string"])


def _format_contained(types: tuple[str, ...], to: str, old: str) -> bool:
    """Does format ``to`` take every value of format ``old`` for this (single) type?"""
    if not to:
        return True  # no format: no constraint
    if len(types) != 1:
        return False
    return (old, to) in _FORMAT_WIDENINGS.get(types[0], set())


class _Change:
    """The two axes of a type/format change from ``a`` to ``b``."""

    def __init__(self, a: dict[str, Any], b: dict[str, Any]) -> None:
        self.ta, self.na = schema_types(a)
        self.tb, self.nb = schema_types(b)
        self.fa, self.fb = _format(a), _format(b)
        self.type_changed = set(self.ta) != set(self.tb)
        self.format_changed = self.fa != self.fb
        self.added = [t for t in self.tb if t not in self.ta]
        self.removed = [t for t in self.ta if t not in self.tb]

    def breaking(
        self, strongly_typed: bool, reverse: bool = False, any_type_safe: bool = True
    ) -> bool:
        """oasdiff's ``typeFormatBreaking`` toward the revision (or the base, ``reverse``)."""
        if reverse:
            to_types, to_fmt, old_fmt = self.ta, self.fa, self.fb
            added, removed = self.removed, self.added
            safe_types = _covered(self.tb, self.ta)
        else:
            to_types, to_fmt, old_fmt = self.tb, self.fb, self.fa
            added, removed = self.added, self.removed
            safe_types = _covered(self.ta, self.tb)
        type_changed = self.type_changed
        if any_type_safe:
            # A request that now takes more types, a response that sends fewer: that axis
            # is safe and only the format is left to judge.
            if safe_types:
                type_changed = False
            if type_changed and not to_types:
                return False
        type_breaks = type_changed and not _type_contained(added, removed, strongly_typed)
        format_breaks = self.format_changed and not _format_contained(to_types, to_fmt, old_fmt)
        return type_breaks or format_breaks

    def concrete_swap(self) -> bool:
        return self.type_changed and bool(self.ta) and bool(self.tb)

    def message(self) -> str:
        def side(types: tuple[str, ...], fmt: str) -> str:
            if not self.format_changed:
                return ", ".join(types) or "any"
            if not self.type_changed:
                return fmt or "none"
            return "/".join(p for p in (", ".join(types) or "any", fmt) if p)

        what = (
            "type/format"
            if self.type_changed and self.format_changed
            else ("type" if self.type_changed else "format")
        )
        return f"{what} changed from {side(self.ta, self.fa)} to {side(self.tb, self.fb)}"


class TypeFormatChecks(KeywordChecks):
    """Nullability and the type/format verdicts of every location oasdiff knows."""

    def _types(
        self, a: dict[str, Any], b: dict[str, Any], ctx: SchemaCtx, pp: tuple[str, ...], root: bool
    ) -> None:
        change = _Change(a, b)
        if not change.na and change.nb:
            self._emit(ctx, root, "became-nullable", "widen", "became nullable", pp)
        elif change.na and not change.nb:
            self._emit(ctx, root, "became-not-nullable", "narrow", "became not nullable", pp)
        if not change.type_changed and not change.format_changed:
            return
        # Wrapping an object into oneOf with no type of its own is reported separately.
        if (
            root
            and not ctx.param_in
            and change.type_changed
            and not change.tb
            and "oneOf" in b
            and "oneOf" not in a
        ):
            self._emit(ctx, root, "wrapped-in-one-of", ERR, "was wrapped in oneOf", pp)
        msg = change.message()
        if ctx.param_in:
            self._param_type(change, b, ctx, pp, root, msg)
        elif ctx.direction == "request":
            if not root and b.get("readOnly"):
                return  # clients do not send it
            strongly_typed = is_json(ctx.media_type)
            if change.breaking(strongly_typed):
                self._emit(ctx, root, "type-changed", ERR, msg, pp)
            elif change.concrete_swap() and not _covered(change.ta, change.tb):
                self._emit(ctx, root, "type-compatible", INFO, msg, pp)
            else:
                self._emit(ctx, root, "type-generalized", INFO, msg, pp)
        else:
            verdict = _response_verdict(change, is_json(ctx.media_type))
            self._emit(ctx, root, f"type-{verdict}", _RESPONSE_LEVELS[verdict], msg, pp)

    def _param_type(
        self,
        change: _Change,
        b: dict[str, Any],
        ctx: SchemaCtx,
        pp: tuple[str, ...],
        root: bool,
        msg: str,
    ) -> None:
        if root:
            # The parameter's own value is text on the wire.
            if not change.breaking(False, any_type_safe=False):
                self._emit(ctx, root, "type-generalized", INFO, msg, pp)
            elif self._scalar_to_exploded_array(change, b, ctx):
                # A single value is a one-element form-exploded array of strings.
                self._emit(ctx, root, "type-generalized", INFO, msg, pp)
            else:
                self._emit(ctx, root, "type-changed", ERR, msg, pp)
            return
        # How an object parameter is serialised is unknown: when the JSON reading and the
        # text reading disagree, the change is only possibly breaking.
        strict = change.breaking(True, any_type_safe=False)
        loose = change.breaking(False, any_type_safe=False)
        if strict != loose:
            self._emit(ctx, root, "type-changed", WARN, msg, pp)
        elif strict:
            self._emit(ctx, root, "type-specialized", ERR, msg, pp)
        else:
            self._emit(ctx, root, "type-generalized", INFO, msg, pp)

    def _scalar_to_exploded_array(self, change: _Change, b: dict[str, Any], ctx: SchemaCtx) -> bool:
        items = self.rev.deref(b.get("items"))
        constraint_free = isinstance(items, dict) and not (
            set(items) & {"pattern", "enum", "const", "format", "maxLength", "minLength"}
        )
        return (
            change.tb == ("array",)
            and bool(change.ta)
            and ctx.param_in in ("query", "header", "cookie")
            and constraint_free
            and "string" in schema_types(items)[0]
        )

    def _header_types(self, a: dict[str, Any], b: dict[str, Any], ctx: SchemaCtx) -> None:
        """A response header's value is text: oasdiff's header rules, not the body's."""
        change = _Change(a, b)
        if not change.na and change.nb:
            self._raw(ctx, "response-header-became-nullable", ERR, "became nullable", ())
        elif change.na and not change.nb:
            self._raw(ctx, "response-header-became-not-nullable", INFO, "became not nullable", ())
        if change.type_changed or change.format_changed:
            verdict = _response_verdict(change, strongly_typed=False)
            rule = f"response-header-type-{verdict}"
            self._raw(ctx, rule, _RESPONSE_LEVELS[verdict], change.message(), ())


def _response_verdict(change: _Change, strongly_typed: bool) -> str:
    """``changed`` / ``generalized`` (ERR) or ``specialized`` / ``compatible`` (INFO)."""
    if change.breaking(strongly_typed, reverse=True):
        widened = change.type_changed and _covered(change.ta, change.tb)
        return "generalized" if widened else "changed"
    if change.concrete_swap() and not _covered(change.tb, change.ta):
        return "compatible"
    return "specialized"
