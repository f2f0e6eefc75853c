"""Edits of operations, request bodies, responses and headers (the schema-level edits are
in ``edits.py``). Each function is a ``make``: it answers ``(base, revision)`` or ``None``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .edits import ADDED, Make, Pair, pair
from .sites import METHODS, SUCCESS, Node, Place, Spec

SUNSET = "2099-01-01"  # far enough that a removal is never past it
OpFits = Callable[[Spec, Place], bool]


def first_op(spec: Spec, fits: OpFits | None = None) -> Place | None:
    """The first operation that fits and is not deprecated: removing a deprecated one is
    another rule (``...-with-deprecation``), and deprecating it again changes nothing."""
    return spec.first_operation(
        lambda op: not (spec.at(op) or {}).get("deprecated") and (fits is None or fits(spec, op))
    )


def _nothing_deprecated(spec: Spec, op: Place) -> bool:
    item = spec.at(op[:2]) or {}
    return not any((item[m] or {}).get("deprecated") for m in item if m in METHODS)


def remove_path(spec: Spec) -> Pair | None:
    op = first_op(spec, _nothing_deprecated)
    return None if op is None else pair(spec, ("paths",), lambda paths: paths.pop(op[1]))


def remove_operation(spec: Spec) -> Pair | None:
    op = first_op(
        spec,
        lambda s, o: (
            _nothing_deprecated(s, o) and len([m for m in s.at(o[:2]) if m in METHODS]) > 1
        ),
    )
    return None if op is None else pair(spec, op[:2], lambda item: item.pop(op[2]))


def add_path(spec: Spec) -> Pair | None:
    new = {"get": {"operationId": ADDED, "responses": {"200": {"description": "ok"}}}}
    return pair(spec, ("paths",), lambda paths: paths.update({f"/{ADDED}": new}))


def on_op(change: Callable[[Node], Any], prepare: Callable[[Node], Any] | None = None) -> Make:
    def make(spec: Spec) -> Pair | None:
        op = first_op(spec)
        return None if op is None else pair(spec, op, change, prepare)

    return make


def on_body(
    fits: Callable[[Node], bool],
    change: Callable[[Node], Any],
    prepare: Callable[[Node], Any] | None = None,
) -> Make:
    def make(spec: Spec) -> Pair | None:
        op = first_op(spec, lambda s, o: fits(s.at((*o, "requestBody")) or {}))
        return None if op is None else pair(spec, (*op, "requestBody"), change, prepare)

    return make


def on_operation_without_body(change: Callable[[Node], Any]) -> Make:
    def make(spec: Spec) -> Pair | None:
        op = first_op(spec, lambda s, o: o[2] in ("post", "put") and not s.at((*o, "requestBody")))
        return None if op is None else pair(spec, op, change)

    return make


def on_success(
    change: Callable[[Node], Any],
    prepare: Callable[[Node], Any] | None = None,
    *,
    with_content: bool = False,
) -> Make:
    def fits(spec: Spec, op: Place) -> bool:
        response = spec.success_response(op)
        return response is not None and (not with_content or bool(spec.at((*response, "content"))))

    def make(spec: Spec) -> Pair | None:
        op = first_op(spec, fits)
        place = None if op is None else spec.success_response(op)
        return None if place is None else pair(spec, place, change, prepare)

    return make


def on_schema(
    side: str, change: Callable[[Node], Any], prepare: Callable[[Node], Any] | None = None
) -> Make:
    """Edit the first request (or success response) schema that is a plain object."""

    def place_of(spec: Spec, op: Place) -> Place | None:
        return spec.request_schema(op) if side == "request" else spec.response_schema(op)

    def make(spec: Spec) -> Pair | None:
        op = first_op(
            spec, lambda s, o: (p := place_of(s, o)) is not None and "properties" in (s.at(p) or {})
        )
        place = None if op is None else place_of(spec, op)
        return None if place is None else pair(spec, place, change, prepare)

    return make


def status(code: str, *, add: bool) -> Make:
    def make(spec: Spec) -> Pair | None:
        op = first_op(spec, lambda s, o: (code in (s.at((*o, "responses")) or {})) != add)
        if op is None:
            return None
        if add:
            return pair(
                spec, (*op, "responses"), lambda r: r.update({code: {"description": ADDED}})
            )
        return pair(spec, (*op, "responses"), lambda r: r.pop(code))

    return make


def remove_success(spec: Spec) -> Pair | None:
    op = first_op(spec, lambda s, o: s.success_response(o) is not None)
    if op is None:
        return None
    code = next(c for c in SUCCESS if c in spec.at((*op, "responses")))
    return pair(spec, (*op, "responses"), lambda r: r.pop(code))


def remove_first_media_type(node: Node) -> None:
    node["content"] = dict(list(node["content"].items())[1:])


def add_media_type(node: Node) -> None:
    node["content"] = {**node.get("content", {}), "application/xml": {"schema": {"type": "string"}}}


def header(required: bool, kind: str = "string", fmt: str = "") -> Callable[[Node], None]:
    schema = {"type": kind, **({"format": fmt} if fmt else {})}
    value = {"description": ADDED, "required": required, "schema": schema}
    return lambda response: response.update(headers={**response.get("headers", {}), ADDED: value})


def remove_header(response: Node) -> None:
    response["headers"] = {k: v for k, v in response["headers"].items() if k != ADDED}


def parameter(required: bool) -> Callable[[Node], None]:
    new = {"name": ADDED, "in": "query", "required": required, "schema": {"type": "string"}}
    return lambda op: op.update(parameters=[*op.get("parameters", []), new])


def remove_query_parameter(*, deprecated_first: bool) -> Make:
    """Remove the first query parameter; with ``deprecated_first`` from a base where it
    was deprecated with a sunset date still ahead."""

    def make(spec: Spec) -> Pair | None:
        place = spec.first_parameter(lambda p: p.get("in") == "query")
        if place is None:
            return None
        if deprecated_first:
            spec = Spec(
                spec.name,
                spec.edit(place, lambda p: p.update(deprecated=True, **{"x-sunset": SUNSET})),
            )
        return spec.doc, spec.edit(place[:-1], lambda params: params.pop(place[-1]))

    return make


def remove_operation_id(op: Node) -> None:
    op.pop("operationId", None)


def body_fits_optional(body: Node) -> bool:
    return bool(body.get("content")) and not body.get("required")


def body_fits_required(body: Node) -> bool:
    return bool(body.get("content")) and body.get("required") is True


def body_has_media_types(body: Node) -> bool:
    return len(body.get("content") or {}) > 1


NEW_BODY = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
