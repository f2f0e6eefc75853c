"""Security checks: schemes in components (with their OAuth flows) and requirements.

oasdiff reports every security change at INFO: whether a client breaks depends on the
credentials it already holds, which a document cannot tell.
"""

from __future__ import annotations

from typing import Any

from .model import Resolver
from .report import INFO, Collector

__all__ = ["diff_requirements", "diff_schemes"]

# Swagger 2.0 names a scheme's single flow; OpenAPI 3 keys them under ``flows``.
_V2_FLOWS = {
    "implicit": "implicit",
    "password": "password",
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
}


def _schemes(doc: dict[str, Any]) -> dict[str, Any]:
    comps = (doc.get("components") or {}).get("securitySchemes")
    return comps if isinstance(comps, dict) else (doc.get("securityDefinitions") or {})


def _flows(scheme: dict[str, Any]) -> dict[str, dict[str, Any]]:
    flows = scheme.get("flows")
    if isinstance(flows, dict):
        return {name: flow for name, flow in flows.items() if isinstance(flow, dict)}
    if scheme.get("type") == "oauth2" and scheme.get("flow") in _V2_FLOWS:
        return {_V2_FLOWS[scheme["flow"]]: scheme}
    return {}


def _scopes(flow: dict[str, Any]) -> dict[str, Any]:
    scopes = flow.get("scopes")
    return scopes if isinstance(scopes, dict) else {}


def _oauth(name: str, a: dict[str, Any], b: dict[str, Any], out: Collector) -> None:
    """URL and scope changes of the flows both versions share.

    oasdiff looks at the implicit flow only; the other flows carry the same fields and a
    client of them is affected the same way, so every shared flow is compared.
    """
    fa, fb = _flows(a), _flows(b)
    for flow in [f for f in fa if f in fb]:
        x, y = fa[flow], fb[flow]
        for field, rule_id in (
            ("authorizationUrl", "api-security-component-oauth-url-changed"),
            ("tokenUrl", "api-security-component-oauth-token-url-changed"),
        ):
            if x.get(field) != y.get(field):
                out.add(
                    rule_id,
                    INFO,
                    f"scheme {name!r} {flow} {field} {x.get(field)!r} -> {y.get(field)!r}",
                    location=f"security scheme {name}",
                )
        sa, sb = _scopes(x), _scopes(y)
        where = {"location": f"security scheme {name}"}
        for scope in [s for s in sa if s not in sb]:
            out.add(
                "api-security-component-oauth-scope-removed",
                INFO,
                f"scheme {name!r} {flow} scope {scope!r} removed",
                **where,
            )
        for scope in [s for s in sb if s not in sa]:
            out.add(
                "api-security-component-oauth-scope-added",
                INFO,
                f"scheme {name!r} {flow} scope {scope!r} added",
                **where,
            )
        for scope in [s for s in sa if s in sb]:
            if sa[scope] != sb[scope]:
                out.add(
                    "api-security-component-oauth-scope-changed",
                    INFO,
                    f"scheme {name!r} {flow} scope {scope!r} description changed",
                    **where,
                )


def diff_schemes(
    base: dict[str, Any], rev: dict[str, Any], ra: Resolver, rb: Resolver, out: Collector
) -> None:
    """Schemes added, removed, retyped, and their OAuth flows changed."""
    sa, sb = _schemes(base), _schemes(rev)
    for name in [k for k in sa if k not in sb]:
        out.add("api-security-component-removed", INFO, f"security scheme {name!r} removed")
    for name in [k for k in sb if k not in sa]:
        out.add("api-security-component-added", INFO, f"security scheme {name!r} added")
    for name in [k for k in sa if k in sb]:
        x, y = ra.deref(sa[name]) or {}, rb.deref(sb[name]) or {}
        if x.get("type") != y.get("type"):
            out.add("api-security-component-type-changed", INFO, f"scheme {name!r} type changed")
            continue
        _oauth(name, x, y, out)


def _requirement_map(requirements: Any) -> dict[frozenset[str], dict[str, list[str]]]:
    """Requirement alternatives keyed by the set of scheme names they combine.

    Scopes stay lists in document order, so a report never depends on the hash seed.
    """
    out: dict[frozenset[str], dict[str, list[str]]] = {}
    for req in requirements or []:
        if isinstance(req, dict):
            out[frozenset(req)] = {k: list(dict.fromkeys(v or [])) for k, v in req.items()}
    return out


def diff_requirements(
    method: str, path: str, sec_a: Any, sec_b: Any, prefix: str, out: Collector
) -> None:
    """Requirement alternatives and their scopes, globally (``api-global``) or per operation."""
    ma, mb = _requirement_map(sec_a), _requirement_map(sec_b)
    where = {"operation": method, "path": path, "location": "security"}
    for key in [k for k in ma if k not in mb]:
        out.add(f"{prefix}-security-removed", INFO, f"security {sorted(key)} removed", **where)
    for key in [k for k in mb if k not in ma]:
        out.add(f"{prefix}-security-added", INFO, f"security {sorted(key)} added", **where)
    for key in [k for k in ma if k in mb]:
        for scheme, scopes_a in ma[key].items():
            scopes_b = mb[key][scheme]
            for scope in [s for s in scopes_a if s not in scopes_b]:
                out.add(
                    f"{prefix}-security-scope-removed",
                    INFO,
                    f"scope {scope!r} of {scheme!r} removed",
                    **where,
                )
            for scope in [s for s in scopes_b if s not in scopes_a]:
                out.add(
                    f"{prefix}-security-scope-added",
                    INFO,
                    f"scope {scope!r} of {scheme!r} added",
                    **where,
                )
