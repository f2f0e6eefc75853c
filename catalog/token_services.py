"""Issuing and revoking API tokens with an audit record.

The tokens themselves are core's (``core.tokens``: the hash, the expiry, authentication);
who did what to them belongs to the audit trail, which is the registry's. Token events
have no app: ``AuditEvent.app`` is empty and ``data`` names the token (never its value)
and, when someone else acted on it, its owner.
"""

from __future__ import annotations

from django.db import transaction

from catalog.models import AuditEvent
from core import tokens
from core.models import ApiToken


def _described(token: ApiToken) -> dict:
    return {
        "token_id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "user": token.user.get_username(),
        "expires_at": token.expires_at.isoformat(),
    }


def token_issue(*, user, actor, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its value, shown once; ValidationError on ``name`` or
    ``expires_in_days``. ``actor`` is who asked: the user, or an operator at the CLI."""
    with transaction.atomic():
        token, value = tokens.issue(user=user, name=name, days=days)
        AuditEvent.record(app=None, actor=actor, action="api_token_issued", data=_described(token))
    return token, value


def token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Retire ``token``. Idempotent: revoking it again changes nothing and records nothing."""
    with transaction.atomic():
        if tokens.revoke(token):
            AuditEvent.record(
                app=None, actor=actor, action="api_token_revoked", data=_described(token)
            )
    return token
