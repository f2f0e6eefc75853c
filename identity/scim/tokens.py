"""Provisioning tokens: the bearer secret the identity provider sends to ``/scim/v2/``.

``aps_`` and 43 URL-safe random characters; only the SHA-256 is stored (``core.tokens``
explains why a plain digest suits a random secret). Issuing and revoking leave an audit
event without an app, as API tokens do."""

from __future__ import annotations

import hmac
import logging
import secrets
import unicodedata

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import AuditEvent
from core import tokens as api_tokens
from identity.models import ProvisioningToken
from identity.scim.errors import ScimError

logger = logging.getLogger("appkeeper.scim")

PREFIX = "aps_"
SHOWN_CHARS = len(PREFIX) + 8
CHALLENGE = 'Bearer realm="Appkeeper SCIM"'


def clean_name(value: object) -> str:
    name = str(value or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after the identity provider, e.g. Okta."})
    if len(name) > ProvisioningToken.NAME_MAX:
        raise ValidationError(
            {"name": f"Ensure this name has at most {ProvisioningToken.NAME_MAX} characters."}
        )
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in name):
        raise ValidationError(
            {"name": "Names cannot contain control characters such as line breaks or tabs."}
        )
    return name


def _described(token: ProvisioningToken) -> dict:
    return {"token_id": token.pk, "name": token.name, "prefix": token.prefix}


def issue(*, name: str, actor) -> tuple[ProvisioningToken, str]:
    """A new token and its value (never stored); ValidationError on ``name`` when a live
    token already has it."""
    name = clean_name(name)
    value = PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ProvisioningToken.objects.create(
                name=name,
                prefix=value[:SHOWN_CHARS],
                digest=api_tokens.digest(value),
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            AuditEvent.record(
                app=None, actor=actor, action="provisioning_token_issued", data=_described(token)
            )
    except IntegrityError:
        raise ValidationError(
            {"name": f"A provisioning token named “{name}” is already in use. Revoke it first."}
        ) from None
    logger.info("provisioning token %s (%s…) issued", token.pk, token.prefix)
    return token, value


def revoke(token: ProvisioningToken, *, actor) -> bool:
    """Retire ``token``; True if this call did it. Revoking twice records nothing more."""
    with transaction.atomic():
        now = timezone.now()
        changed = ProvisioningToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if changed:
            token.revoked_at = now
            AuditEvent.record(
                app=None, actor=actor, action="provisioning_token_revoked", data=_described(token)
            )
            logger.info("provisioning token %s (%s…) revoked", token.pk, token.prefix)
    return bool(changed)


def _refused(detail: str, error: str = "") -> ScimError:
    challenge = f'{CHALLENGE}, error="{error}"' if error else CHALLENGE
    return ScimError(401, detail, headers={"WWW-Authenticate": challenge})


def authenticate(header: str) -> ProvisioningToken:
    """The live token an ``Authorization`` header presents, or a 401 ScimError. One query,
    and at most once per ``core.tokens.TOUCH_INTERVAL`` one conditional update."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _refused("Send the provisioning token as Authorization: Bearer aps_….")
    value = value.strip()
    if len(value) > api_tokens.MAX_PRESENTED_LENGTH:
        raise _refused("Invalid token.", "invalid_token")
    presented = api_tokens.digest(value)
    token = ProvisioningToken.objects.filter(digest=presented).first()
    # Found by the digest's index; compared again in constant time.
    if token is None or not hmac.compare_digest(token.digest, presented):
        raise _refused("Invalid token.", "invalid_token")
    if token.revoked_at is not None:
        raise _refused("This token has been revoked.", "invalid_token")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= api_tokens.TOUCH_INTERVAL:
        ProvisioningToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - api_tokens.TOUCH_INTERVAL)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
