"""Small typed readers for environment variables that fail loudly on bad values.

Every production value comes from the environment; a missing or malformed one must stop
the process at start with a message naming the variable, not surface later as a 500.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, default: str | None, required: bool) -> str | None:
    value = os.environ.get(name)
    if value is None or (required and value.strip() == ""):
        if required:
            raise ImproperlyConfigured(f"Environment variable {name} is required but not set.")
        return default
    return value


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = _raw(name, default, required)
    return "" if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name, None, False)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"Environment variable {name}={value!r} is not a boolean.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name, None, False)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"Environment variable {name}={value!r} is not an integer."
        ) from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"Environment variable {name} must be at least {minimum}.")
    return number


def env_decimal(name: str, default: str) -> Decimal:
    value = _raw(name, default, False) or default
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"Environment variable {name}={value!r} is not a number."
        ) from None


def env_list(name: str, default: list[str] | None = None, *, required: bool = False) -> list[str]:
    value = _raw(name, None, required)
    if value is None:
        return list(default or [])
    items = [item.strip() for item in value.split(",") if item.strip()]
    if required and not items:
        raise ImproperlyConfigured(f"Environment variable {name} must list at least one value.")
    return items


def database_from_url(name: str, url: str) -> dict:
    """Turn ``postgres://user:pass@host:5432/db?sslmode=require`` or ``sqlite:///path`` into
    a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if not path or path == "/":
            raise ImproperlyConfigured(f"Environment variable {name} has no SQLite file path.")
        # sqlite:///var/db.sqlite3 is relative, sqlite:////abs/db.sqlite3 absolute.
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path[1:]}
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a postgres:// or sqlite:/// URL, "
            f"not {parsed.scheme or 'an unparseable value'}."
        )
    if not parsed.path.strip("/"):
        raise ImproperlyConfigured(f"Environment variable {name} names no database.")
    try:
        port = parsed.port
    except ValueError:
        raise ImproperlyConfigured(f"Environment variable {name} has a malformed port.") from None
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.strip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


GROUP_MAP_ROLES = ("platform-team", "finance")
GROUP_MAP_TEAM_PREFIX = "team:"


def parse_group_map(name: str, value: str) -> dict[str, list[str]]:
    """``{"appkeeper-admins": ["platform-team"], "support": ["team:support-tools"]}``: a
    directory group to the roles it gives. A typo here would silently take roles away at
    everyone's next sign-in, so anything but that exact shape stops the process."""
    if not value.strip():
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"Environment variable {name} is not valid JSON: {error}."
        ) from None
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a JSON object of group -> list of roles."
        )
    mapping: dict[str, list[str]] = {}
    for group, targets in parsed.items():
        if not group.strip():
            raise ImproperlyConfigured(f"Environment variable {name} has an empty group name.")
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise ImproperlyConfigured(
                f"Environment variable {name}: group {group!r} must map to a list of strings."
            )
        for target in targets:
            slug = target.removeprefix(GROUP_MAP_TEAM_PREFIX)
            if target not in GROUP_MAP_ROLES and not (
                target.startswith(GROUP_MAP_TEAM_PREFIX) and slug.strip()
            ):
                raise ImproperlyConfigured(
                    f"Environment variable {name}: group {group!r} maps to {target!r}; a role "
                    f'is "platform-team", "finance" or "team:<team slug>".'
                )
        mapping[group] = list(dict.fromkeys(targets))
    return mapping
