"""Deprecation, sunset and stability of endpoints and parameters, read as oasdiff does.

Something deprecated may go once its ``x-sunset`` date has passed; removing it earlier,
dropping the date while it stays deprecated, or bringing the date forward breaks the
promise clients planned on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .report import ERR, INFO, STABILITY, WARN, Collector

__all__ = [
    "operation_lifecycle",
    "operation_removed",
    "parameter_lifecycle",
    "parameter_removed",
    "sunset_date",
]


def sunset_date(node: dict[str, Any]) -> dt.date | None:
    """The ``x-sunset`` date of an operation or parameter (RFC 3339 date or date-time)."""
    raw = node.get("x-sunset")
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None


def _newly_deprecated(
    node: dict[str, Any],
    deprecated_ids: tuple[str, str],
    sunset_ids: tuple[str, str],
    label: str,
    where: dict[str, str],
    out: Collector,
) -> None:
    """Deprecated now: fine with no sunset or a future one; an unreadable or past sunset
    leaves clients no notice at all (oasdiff's default minimum notice is zero days)."""
    without, with_sunset = deprecated_ids
    unreadable, too_small = sunset_ids
    if "x-sunset" not in node:
        out.add(without, INFO, f"{label} deprecated", **where)
        return
    sunset = sunset_date(node)
    if sunset is None:
        out.add(unreadable, ERR, f"{label}: cannot read sunset {node['x-sunset']!r}", **where)
    elif sunset < dt.date.today():
        out.add(too_small, ERR, f"{label} deprecated with a past sunset {sunset}", **where)
    else:
        out.add(with_sunset, INFO, f"{label} deprecated, sunset {sunset}", **where)


def operation_removed(
    raw: dict[str, Any], prefix: str, where: dict[str, str], out: Collector
) -> None:
    """An endpoint (``api-removed``) or a whole path (``api-path-removed``) went away."""
    if not raw.get("deprecated"):
        out.add(f"{prefix}-without-deprecation", ERR, "removed without deprecation", **where)
        return
    sunset = sunset_date(raw)
    if "x-sunset" in raw and sunset is None:
        # oasdiff names this one after paths for removed operations too.
        out.add("api-path-sunset-parse", ERR, f"cannot read sunset {raw['x-sunset']!r}", **where)
    elif sunset is not None and sunset > dt.date.today():
        out.add(f"{prefix}-before-sunset", ERR, f"removed before sunset {sunset}", **where)
    else:
        out.add(f"{prefix}-with-deprecation", INFO, "removed after deprecation", **where)


def operation_lifecycle(
    a: dict[str, Any], b: dict[str, Any], where: dict[str, str], out: Collector
) -> None:
    """Deprecation, sunset and ``x-stability-level`` changes of one endpoint."""
    dep_a, dep_b = bool(a.get("deprecated")), bool(b.get("deprecated"))
    if dep_b and not dep_a:
        _newly_deprecated(
            b,
            ("endpoint-deprecated", "endpoint-deprecated-with-sunset"),
            ("api-deprecated-sunset-parse", "api-sunset-date-too-small"),
            "endpoint",
            where,
            out,
        )
    elif dep_a and not dep_b:
        out.add("endpoint-reactivated", INFO, "endpoint reactivated", **where)
    sa, sb = sunset_date(a), sunset_date(b)
    if dep_b and sa and not sb and "x-sunset" not in b:
        out.add("sunset-deleted", ERR, "sunset date removed", **where)
    elif dep_b and sa and sb and sb < sa:
        out.add("api-sunset-date-changed-too-small", ERR, f"sunset {sa} -> {sb}", **where)
    la, lb = a.get("x-stability-level"), b.get("x-stability-level")
    if la in STABILITY and lb in STABILITY and la != lb:
        if STABILITY[lb] < STABILITY[la]:
            out.add("api-stability-decreased", ERR, f"stability {la} -> {lb}", **where)
        else:
            out.add("api-stability-increased", INFO, f"stability {la} -> {lb}", **where)


def _unreadable_sunset(
    param: dict[str, Any], location: str, where: dict[str, str], out: Collector
) -> None:
    out.add(
        "request-parameter-sunset-parse",
        ERR,
        f"{location}: cannot read sunset {param['x-sunset']!r}",
        **where,
    )


def parameter_removed(
    param: dict[str, Any], location: str, where: dict[str, str], out: Collector
) -> None:
    """Removing a parameter is fine only once its sunset has passed."""
    if not param.get("deprecated"):
        # Possibly breaking: some clients fail on an unexpected parameter.
        out.add("request-parameter-removed", WARN, f"{location} removed", **where)
        return
    if "x-sunset" not in param:
        out.add(
            "request-parameter-removed-with-deprecation",
            INFO,
            f"{location} removed after deprecation",
            **where,
        )
        return
    sunset = sunset_date(param)
    if sunset is None:
        _unreadable_sunset(param, location, where, out)
    elif sunset > dt.date.today():
        out.add(
            "request-parameter-removed-before-sunset",
            ERR,
            f"{location} removed before its sunset {sunset}",
            **where,
        )


def parameter_lifecycle(
    pa: dict[str, Any], pb: dict[str, Any], location: str, where: dict[str, str], out: Collector
) -> None:
    """Deprecation of a parameter both versions have, and its sunset while deprecated.

    Like an endpoint's, an earlier sunset is reported whenever it moves forward; oasdiff
    does so only inside a configurable minimum notice, which defaults to none.
    """
    if pb.get("deprecated") and not pa.get("deprecated"):
        # oasdiff has no "deprecated-with-sunset" for parameters.
        _newly_deprecated(
            pb,
            ("request-parameter-deprecated", "request-parameter-deprecated"),
            ("request-parameter-sunset-parse", "request-parameter-sunset-date-too-small"),
            location,
            where,
            out,
        )
    elif pa.get("deprecated") and not pb.get("deprecated"):
        out.add("request-parameter-reactivated", INFO, f"{location} reactivated", **where)
    if not pb.get("deprecated") or "x-sunset" not in pa:
        return
    if "x-sunset" not in pb:
        out.add(
            "request-parameter-sunset-deleted",
            ERR,
            f"{location}: sunset date removed while still deprecated",
            **where,
        )
        return
    if pa["x-sunset"] == pb["x-sunset"]:
        return
    sa, sb = sunset_date(pa), sunset_date(pb)
    if sb is None:
        _unreadable_sunset(pb, location, where, out)
    elif sa is None:
        _unreadable_sunset(pa, location, where, out)
    elif sb < sa:
        out.add(
            "request-parameter-sunset-date-changed-too-small",
            ERR,
            f"{location}: sunset {sa} -> {sb}",
            **where,
        )
