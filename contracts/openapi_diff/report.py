"""Change records and how their level follows from the direction of a change.

oasdiff's rule levels follow one principle: a change that *narrows* what the server
accepts breaks requests, and a change that *widens* what the server may send breaks
responses. The schema walker states the effect; :func:`level_for` turns it into a level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .rules import checked

__all__ = ["ERR", "INFO", "STABILITY", "WARN", "Collector", "SchemaCtx", "level_for"]

ERR, WARN, INFO = "ERR", "WARN", "INFO"

# x-stability-level values, least to most stable (oasdiff's order).
STABILITY = {"draft": 0, "alpha": 1, "beta": 2, "stable": 3}

# Effects the walker can state. "narrow"/"widen" depend on the direction; the others are
# fixed levels.
_BY_EFFECT = {
    ("request", "narrow"): ERR,
    ("request", "widen"): INFO,
    ("response", "narrow"): INFO,
    ("response", "widen"): ERR,
    # A newly set bound in a request is only possibly breaking: clients may already
    # stay within it.
    ("request", "set"): WARN,
    ("response", "set"): INFO,
}


def level_for(direction: str, effect: str) -> str:
    """Map an effect (``narrow``, ``widen``, ``set`` or a level name) to a level."""
    if effect in (ERR, WARN, INFO):
        return effect
    return _BY_EFFECT[(direction, effect)]


@dataclass(frozen=True)
class SchemaCtx:
    """Where a schema sits: the operation, the direction and the id prefixes to use."""

    direction: str  # "request" | "response"
    root: str  # id prefix at the top of the schema, e.g. "request-body"
    prop: str  # id prefix below it, e.g. "request-property"
    operation: str  # HTTP method, upper case ("" for document-level changes)
    path: str
    location: str  # e.g. "request body application/json" or "parameter query.limit"
    media_type: str = ""
    param_in: str = ""  # set for parameter schemas


class Collector:
    """Accumulates change dicts, dropping exact duplicates (a schema reached twice)."""

    def __init__(self) -> None:
        self.changes: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str, str, str, str]] = set()

    def add(
        self,
        rule_id: str,
        level: str,
        message: str,
        *,
        operation: str = "",
        path: str = "",
        location: str = "",
    ) -> None:
        key = (checked(rule_id, level), operation, path, location, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.changes.append(
            {
                "id": rule_id,
                "level": level,
                "message": message,
                "operation": operation,
                "path": path,
                "location": location,
            }
        )
