"""A common internal shape for Swagger 2.0 and OpenAPI 3.x operations.

Nothing here copies the document: operations hold references into the parsed tree and
``$ref``s are resolved lazily through a memoised :class:`Resolver`. That keeps a diff of
two multi-megabyte documents (Stripe) within a small, constant memory overhead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

__all__ = ["HTTP_METHODS", "Operation", "Resolver", "collect_operations", "path_key"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MISSING = object()
_PARAM_RE = re.compile(r"\{[^}/]*\}")


class Resolver:
    """Resolves local JSON-pointer ``$ref``s of one document, with a cache per ref string."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self._cache: dict[str, Any] = {}

    def _pointer(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return None  # external refs are refused at load time; never follow them here
        node: Any = self.doc
        fragment = unquote(ref[1:])
        if not fragment:
            return node
        for raw in fragment.lstrip("/").split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                node = node.get(part, _MISSING)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
            if node is _MISSING:
                return None
        return node

    def deref(self, node: Any) -> Any:
        """Follow a chain of ``$ref``s; a cycle made only of refs resolves to ``None``."""
        if not isinstance(node, dict) or "$ref" not in node:
            return node  # the common case, kept cheap: most nodes are not references
        hops = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            target = self._cache.get(ref, _MISSING)
            if target is _MISSING:
                target = self._pointer(ref)
                self._cache[ref] = target
            node = target
            hops += 1
            if hops > 64:
                return None
        return node


def path_key(path: str) -> str:
    """``/pets/{petId}`` and ``/pets/{id}`` are the same endpoint to a client."""
    return _PARAM_RE.sub("{}", path)


@dataclass
class Operation:
    """One operation in the common shape (2.0 documents are mapped onto 3.x terms)."""

    method: str
    path: str
    raw: dict[str, Any]
    parameters: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # Request body: {"required": bool, "content": {media type: schema}} or None.
    body: dict[str, Any] | None = None
    # {status: {"content": {media type: schema}, "headers": {name: header}}}
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _param_schema_v2(param: dict[str, Any]) -> dict[str, Any]:
    # A 2.0 non-body parameter *is* its schema (type, format, items, enum, bounds...).
    skip = {"name", "in", "required", "description", "allowEmptyValue", "collectionFormat"}
    return {k: v for k, v in param.items() if k not in skip}


def _merge_params(
    res: Resolver, path: str, path_level: Any, op_level: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Operation parameters override path-level ones with the same (in, name)."""
    path_names = [m.group(0)[1:-1] for m in _PARAM_RE.finditer(path)]
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for group in (path_level, op_level):
        for raw in group or []:
            param = res.deref(raw)
            if not isinstance(param, dict) or "name" not in param:
                continue
            where = str(param.get("in", ""))
            name = str(param["name"])
            # Path parameters are matched by position: renaming {id} to {petId} is not
            # a change a client can see.
            if where == "path" and name in path_names:
                name = f"#{path_names.index(name)}"
            merged[(where, name)] = param
    return merged


def _v2_body(
    params: dict[tuple[str, str], dict[str, Any]], consumes: list[str]
) -> dict[str, Any] | None:
    body = next((p for (where, _), p in params.items() if where == "body"), None)
    if body is not None:
        return {
            "required": bool(body.get("required")),
            "content": {mt: body.get("schema") or {} for mt in consumes or ["application/json"]},
        }
    form = {name: p for (where, name), p in params.items() if where == "formData"}
    if not form:
        return None
    schema = {
        "type": "object",
        "properties": {name: _param_schema_v2(p) for name, p in form.items()},
        "required": [name for name, p in form.items() if p.get("required")],
    }
    is_multipart = any(p.get("type") == "file" for p in form.values())
    mt = "multipart/form-data" if is_multipart else "application/x-www-form-urlencoded"
    return {"required": bool(schema["required"]), "content": {mt: schema}}


def _build_operation(
    res: Resolver, doc: dict[str, Any], path: str, item: dict[str, Any], method: str
) -> Operation:
    raw = item[method]
    is_v2 = "swagger" in doc
    params = _merge_params(res, path, item.get("parameters"), raw.get("parameters"))
    op = Operation(method=method, path=path, raw=raw)
    if is_v2:
        consumes = raw.get("consumes") or doc.get("consumes") or []
        produces = raw.get("produces") or doc.get("produces") or ["application/json"]
        op.body = _v2_body(params, consumes)
        op.parameters = {
            k: {**p, "schema": _param_schema_v2(p)}
            for k, p in params.items()
            if k[0] not in ("body", "formData")
        }
        for status, resp in (raw.get("responses") or {}).items():
            resp = res.deref(resp)
            if not isinstance(resp, dict):
                continue
            content = dict.fromkeys(produces, resp["schema"]) if "schema" in resp else {}
            headers = {
                name: {"required": False, "schema": h}
                for name, h in (resp.get("headers") or {}).items()
            }
            op.responses[str(status)] = {"content": content, "headers": headers}
        return op

    op.parameters = params
    body = res.deref(raw.get("requestBody"))
    if isinstance(body, dict):
        op.body = {
            "required": bool(body.get("required")),
            "content": {
                mt: (res.deref(media) or {}).get("schema")
                for mt, media in (body.get("content") or {}).items()
            },
        }
    for status, resp in (raw.get("responses") or {}).items():
        resp = res.deref(resp)
        if not isinstance(resp, dict):
            continue
        content = {
            mt: (res.deref(media) or {}).get("schema")
            for mt, media in (resp.get("content") or {}).items()
        }
        headers = {}
        for name, header in (resp.get("headers") or {}).items():
            header = res.deref(header)
            if isinstance(header, dict):
                headers[name] = header
        op.responses[str(status)] = {"content": content, "headers": headers}
    return op


def collect_operations(
    res: Resolver, doc: dict[str, Any], section: str = "paths"
) -> dict[str, dict[str, Operation]]:
    """``{normalised path: {method: Operation}}`` for ``paths`` (or ``webhooks``)."""
    out: dict[str, dict[str, Operation]] = {}
    for path, item in (doc.get(section) or {}).items():
        item = res.deref(item)
        if not isinstance(item, dict):
            continue
        key = path_key(path) if section == "paths" else path
        ops = out.setdefault(key, {})
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                ops[method] = _build_operation(res, doc, path, item, method)
    return out
