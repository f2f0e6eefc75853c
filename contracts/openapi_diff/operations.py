"""Document- and operation-level checks: paths, parameters, bodies, responses, security."""

from __future__ import annotations

from typing import Any

from .lifecycle import (
    operation_lifecycle,
    operation_removed,
    parameter_lifecycle,
    parameter_removed,
)
from .model import Operation, Resolver, collect_operations
from .report import ERR, INFO, WARN, Collector, SchemaCtx
from .schema import SchemaDiffer
from .security import diff_requirements, diff_schemes

__all__ = ["diff_documents"]


def _media_essence(mt: str) -> tuple[str, str]:
    """``application/problem+json; q=1`` -> ("application", "json"): type and syntax."""
    base = mt.split(";", 1)[0].strip().lower()
    kind, _, sub = base.partition("/")
    return kind, sub.rsplit("+", 1)[-1]


def match_media_types(
    ca: dict[str, Any], cb: dict[str, Any]
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Pair media types; parameters and ``+json``-style specialisations still match.

    A client that reads ``application/json`` can read ``application/problem+json``, so
    oasdiff does not call that a removal; unmatched leftovers are real additions/removals.
    """
    pairs = [(mt, mt) for mt in ca if mt in cb]
    rest_a = [mt for mt in ca if mt not in cb]
    rest_b = [mt for mt in cb if mt not in ca]
    for mt in list(rest_a):
        hit = next((x for x in rest_b if _media_essence(x) == _media_essence(mt)), None)
        if hit is not None:
            pairs.append((mt, hit))
            rest_a.remove(mt)
            rest_b.remove(hit)
    return pairs, rest_a, rest_b


class _Differ:
    def __init__(self, base: dict[str, Any], rev: dict[str, Any]) -> None:
        self.a, self.b = base, rev
        self.ra, self.rb = Resolver(base), Resolver(rev)
        self.out = Collector()
        self.schemas = SchemaDiffer(self.ra, self.rb, self.out)

    # -- document level ------------------------------------------------------------
    def run(self) -> list[dict[str, Any]]:
        diff_schemes(self.a, self.b, self.ra, self.rb, self.out)
        diff_requirements(
            "", "", self.a.get("security"), self.b.get("security"), "api-global", self.out
        )
        self._paths("paths", self._path_removed)
        self._paths("webhooks", self._webhook_removed)
        return self.out.changes

    def _paths(self, section: str, on_path_removed: Any) -> None:
        ops_a = collect_operations(self.ra, self.a, section)
        ops_b = collect_operations(self.rb, self.b, section)
        for key, methods in ops_a.items():
            if key not in ops_b:
                on_path_removed(methods)
                continue
            for method, op in methods.items():
                other = ops_b[key].get(method)
                if other is None:
                    self._operation_removed(op, "api-removed")
                else:
                    self._operation(op, other)
            for method, op in ops_b[key].items():
                if method not in methods:
                    self.out.add(
                        "endpoint-added",
                        INFO,
                        "endpoint added",
                        operation=op.method.upper(),
                        path=op.path,
                    )
        for key, methods in ops_b.items():
            if key in ops_a:
                continue
            if section == "webhooks":
                self.out.add("webhook-added", INFO, f"webhook {key!r} added", path=key)
                continue
            for op in methods.values():
                self.out.add(
                    "endpoint-added",
                    INFO,
                    "endpoint added",
                    operation=op.method.upper(),
                    path=op.path,
                )

    def _path_removed(self, methods: dict[str, Operation]) -> None:
        for op in methods.values():
            self._operation_removed(op, "api-path-removed")

    def _webhook_removed(self, methods: dict[str, Operation]) -> None:
        for op in methods.values():
            self.out.add(
                "webhook-removed",
                ERR,
                f"webhook {op.path!r} removed",
                path=op.path,
                operation=op.method.upper(),
            )

    def _operation_removed(self, op: Operation, prefix: str) -> None:
        where = {"operation": op.method.upper(), "path": op.path, "location": ""}
        operation_removed(op.raw, prefix, where, self.out)

    # -- operation level -------------------------------------------------------------
    def _operation(self, a: Operation, b: Operation) -> None:
        method, path = b.method.upper(), b.path
        where = {"operation": method, "path": path}
        operation_lifecycle(a.raw, b.raw, where, self.out)
        ida, idb = a.raw.get("operationId") or "", b.raw.get("operationId") or ""
        if ida and ida != idb:
            # oasdiff calls a renamed operationId a removal: generated clients lose the name.
            self.out.add(
                "api-operation-id-removed", INFO, f"operationId {ida!r} -> {idb!r}", **where
            )
        elif idb and not ida:
            self.out.add("api-operation-id-added", INFO, f"operationId {idb!r} added", **where)
        tags_a, tags_b = list(a.raw.get("tags") or []), list(b.raw.get("tags") or [])
        for tag in dict.fromkeys(t for t in tags_a if t not in tags_b):
            self.out.add("api-tag-removed", INFO, f"tag {tag!r} removed", **where)
        for tag in dict.fromkeys(t for t in tags_b if t not in tags_a):
            self.out.add("api-tag-added", INFO, f"tag {tag!r} added", **where)
        if "security" in a.raw or "security" in b.raw:
            sec_a, sec_b = a.raw.get("security"), b.raw.get("security")
            diff_requirements(method, path, sec_a, sec_b, "api", self.out)
        self._parameters(a, b)
        self._request_body(a, b)
        self._responses(a, b)

    def _parameters(self, a: Operation, b: Operation) -> None:
        method, path = b.method.upper(), b.path
        for key, param in b.parameters.items():
            if key in a.parameters:
                continue
            where = {"operation": method, "path": path, "location": f"parameter {key[0]}.{key[1]}"}
            label = f"{key[0]} parameter {param.get('name')!r}"
            if key[0] == "path":
                self.out.add("new-request-path-parameter", ERR, f"new {label}", **where)
            elif param.get("required"):
                self.out.add(
                    "new-required-request-parameter", ERR, f"new required {label}", **where
                )
            else:
                self.out.add(
                    "new-optional-request-parameter", INFO, f"new optional {label}", **where
                )
        for key, pa in a.parameters.items():
            location = f"parameter {key[0]}.{pa.get('name')}"
            where = {"operation": method, "path": path, "location": location}
            pb = b.parameters.get(key)
            if pb is None:
                parameter_removed(pa, location, where, self.out)
                continue
            if bool(pb.get("required")) and not pa.get("required"):
                self.out.add(
                    "request-parameter-became-required", ERR, f"{location} became required", **where
                )
            elif pa.get("required") and not pb.get("required"):
                self.out.add(
                    "request-parameter-became-optional",
                    INFO,
                    f"{location} became optional",
                    **where,
                )
            parameter_lifecycle(pa, pb, location, where, self.out)
            ctx = SchemaCtx(
                "request",
                "request-parameter",
                "request-parameter-property",
                method,
                path,
                location,
                param_in=key[0],
            )
            if pa.get("schema") is not None and pb.get("schema") is not None:
                self.schemas.compare(pa["schema"], pb["schema"], ctx)
            content_a, content_b = pa.get("content") or {}, pb.get("content") or {}
            for mt in [mt for mt in content_a if mt in content_b]:
                ma = self.ra.deref(pa["content"][mt]) or {}
                mb = self.rb.deref(pb["content"][mt]) or {}
                self.schemas.compare(ma.get("schema"), mb.get("schema"), ctx)

    def _request_body(self, a: Operation, b: Operation) -> None:
        method, path = b.method.upper(), b.path
        where = {"operation": method, "path": path, "location": "request body"}
        ba, bb = a.body, b.body
        if ba is None and bb is None:
            return
        if ba is None:
            if bb and bb["required"]:
                self.out.add("request-body-added-required", ERR, "required body added", **where)
            else:
                self.out.add("request-body-added-optional", INFO, "optional body added", **where)
            return
        if bb is None:
            self.out.add("request-body-removed", ERR, "request body removed", **where)
            return
        if bb["required"] and not ba["required"]:
            self.out.add("request-body-became-required", ERR, "body became required", **where)
        elif ba["required"] and not bb["required"]:
            self.out.add("request-body-became-optional", INFO, "body became optional", **where)
        self._content("request", ba["content"], bb["content"], method, path, "request body", where)

    def _content(
        self,
        direction: str,
        ca: dict[str, Any],
        cb: dict[str, Any],
        method: str,
        path: str,
        label: str,
        where: dict[str, str],
    ) -> None:
        """Media types of a body: removals, additions, and a schema walk per pair."""
        removed_id, added_id = (
            ("request-body-media-type-removed", "request-body-media-type-added")
            if direction == "request"
            else ("response-media-type-removed", "response-media-type-added")
        )
        pairs, removed, added = match_media_types(ca, cb)
        for mt in removed:
            self.out.add(removed_id, ERR, f"{label}: media type {mt} removed", **where)
        for mt in added:
            self.out.add(added_id, INFO, f"{label}: media type {mt} added", **where)
        root, prop = (
            ("request-body", "request-property")
            if direction == "request"
            else ("response-body", "response-property")
        )
        for mt_a, mt_b in pairs:
            if ca[mt_a] is None or cb[mt_b] is None:
                continue
            ctx = SchemaCtx(direction, root, prop, method, path, f"{label} {mt_b}", media_type=mt_b)
            self.schemas.compare(ca[mt_a], cb[mt_b], ctx)

    def _responses(self, a: Operation, b: Operation) -> None:
        method, path = b.method.upper(), b.path
        for status, ra in a.responses.items():
            success = status.startswith("2")
            where = {"operation": method, "path": path, "location": f"response {status}"}
            rb = b.responses.get(status)
            if rb is None:
                if success:
                    self.out.add(
                        "response-success-status-removed",
                        ERR,
                        f"success status {status} removed",
                        **where,
                    )
                else:
                    self.out.add(
                        "response-non-success-status-removed",
                        INFO,
                        f"status {status} removed",
                        **where,
                    )
                continue
            self._response(status, ra, rb, method, path)
        for status in [s for s in b.responses if s not in a.responses]:
            where = {"operation": method, "path": path, "location": f"response {status}"}
            rule = (
                "response-success-status-added"
                if status.startswith("2")
                else "response-non-success-status-added"
            )
            self.out.add(rule, INFO, f"status {status} added", **where)

    def _response(
        self, status: str, ra: dict[str, Any], rb: dict[str, Any], method: str, path: str
    ) -> None:
        where = {"operation": method, "path": path, "location": f"response {status}"}
        self._content(
            "response", ra["content"], rb["content"], method, path, f"response {status}", where
        )
        ha, hb = ra["headers"], rb["headers"]
        for name in [k for k in ha if k not in hb]:
            if ha[name].get("required"):
                self.out.add(
                    "required-response-header-removed", ERR, f"header {name!r} removed", **where
                )
            else:
                self.out.add(
                    "optional-response-header-removed", WARN, f"header {name!r} removed", **where
                )
        for name in [k for k in ha if k in hb]:
            if ha[name].get("required") and not hb[name].get("required"):
                self.out.add(
                    "response-header-became-optional",
                    ERR,
                    f"header {name!r} became optional",
                    **where,
                )
            header_ctx = SchemaCtx(
                "response",
                "response-header",
                "response-header",
                method,
                path,
                f"response {status} header {name}",
            )
            self.schemas.compare_header(ha[name].get("schema"), hb[name].get("schema"), header_ctx)


def diff_documents(base: dict[str, Any], revision: dict[str, Any]) -> list[dict[str, Any]]:
    """All changes from ``base`` to ``revision`` as oasdiff-style change dicts."""
    return _Differ(base, revision).run()
