"""Which addresses a team's Teams webhook may have: https on the hosts Workflows and the
old Office 365 connectors use (``APPKEEPER_TEAMS_WEBHOOK_HOSTS``). A webhook URL is where
Appkeeper POSTs a team's notices, so it must not be able to point at an internal service."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def allowed_hosts() -> list[str]:
    return [h.strip().lower() for h in settings.APPKEEPER_TEAMS_WEBHOOK_HOSTS if h.strip()]


def host_allowed(host: str, scheme: str) -> bool:
    """https on a listed suffix (``.logic.azure.com``) or exact host; http only on a host
    listed exactly (a local receiver in tests), never on a suffix."""
    host = host.lower()
    for entry in allowed_hosts():
        exact = host == entry.lstrip(".")
        suffix = entry.startswith(".") and host.endswith(entry)
        if scheme == "https" and (exact or suffix):
            return True
        if scheme == "http" and host == entry:
            return True
    return False


def validate_teams_webhook_url(value: str) -> None:
    if not value:
        return
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        raise ValidationError("Enter a valid URL.", code="invalid") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError("Enter the https URL Teams Workflows gave you.", code="invalid")
    if parts.username or parts.password:
        raise ValidationError("The URL must not carry a user name or password.", code="invalid")
    if not host_allowed(host, parts.scheme):
        names = ", ".join(allowed_hosts())
        raise ValidationError(
            f"A Teams webhook must be an https URL on one of these hosts: {names}.",
            code="host",
        )


def masked(url: str) -> str:
    """What the team page shows of a saved webhook: its host, never the signed path."""
    if not url:
        return ""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return f"{host}/…" if host else "…"
