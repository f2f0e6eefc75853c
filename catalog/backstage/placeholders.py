"""``$text``, ``$json`` and ``$yaml``: Backstage's placeholders for content kept in another
file, usually an API's ``spec.definition``."""

from __future__ import annotations

from typing import Any

PLACEHOLDER_KEYS = ("$text", "$json", "$yaml")


def placeholder(value: Any) -> tuple[str, str] | None:
    """``("$text", "./openapi.yaml")`` for a placeholder mapping, None for anything else."""
    if isinstance(value, dict) and len(value) == 1:
        key, target = next(iter(value.items()))
        if key in PLACEHOLDER_KEYS and isinstance(target, str):
            return key, target
    return None
