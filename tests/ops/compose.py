"""docker-compose.yml read the way Compose reads it, for tests that must not drift from it.

PyYAML (a dependency of drf-spectacular) resolves the anchors and ``<<`` merges; values
are interpolated like Compose does: ``${VAR:-default}`` and ``${VAR-default}``,
``${VAR:?message}`` and ``${VAR?message}``, ``${VAR}``, ``$VAR`` and ``$$``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

_REFERENCE = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(LookupError):
    """A ``${VAR:?message}`` whose variable the caller did not give."""


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        present = name in variables
        value = variables.get(name, "")
        unusable = not present or (op is not None and op.startswith(":") and value == "")
        if op in {":-", "-"} and unusable:
            return arg
        if op in {":?", "?"} and unusable:
            raise MissingVariable(f"{name}: {arg}")
        return value

    return _REFERENCE.sub(replace, value)


def load() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def service_environment(service: str, variables: Mapping[str, str]) -> dict[str, str]:
    """The environment Compose gives ``service`` when the shell sets only ``variables``."""
    environment = load()["services"][service].get("environment") or {}
    if isinstance(environment, list):  # the KEY=value list form
        environment = dict(item.split("=", 1) for item in environment)
    return {
        key: interpolate("" if value is None else str(value), variables)
        for key, value in environment.items()
    }
