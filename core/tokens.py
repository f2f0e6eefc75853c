"""API tokens: issuing, revoking and recognising them, and DRF's authentication with them.

A token is ``apk_`` followed by 43 URL-safe random characters; only its SHA-256 is stored
(see ``core.models.ApiToken`` for why a plain digest is right for a random secret). Clients
send it as ``Authorization: Token <value>``, the scheme the API always had, so scripts keep
working when their token is replaced.

These are the primitives; ``catalog.token_services`` wraps issuing and revoking with the
audit trail, which core cannot name.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from core.models import ApiToken
from core.types import SignedInUser

logger = logging.getLogger("appkeeper.tokens")

PREFIX = "apk_"
# How much of a token is kept in clear to recognise it: "apk_" and 8 random characters
# (48 bits), which leaves 210 bits of the secret unknown to whoever reads the list.
SHOWN_CHARS = len(PREFIX) + 8
# No client sends a token this long; refusing it early spares hashing megabytes.
MAX_PRESENTED_LENGTH = 256
# last_used_at is a hint for people ("is this token still in use?"), not an access log:
# writing it at most this often keeps authenticated reads from writing on every call.
TOUCH_INTERVAL = timedelta(minutes=5)
# The page and the API flag tokens that stop working within this many days.
EXPIRY_WARNING_DAYS = 7

INVALID = "Invalid token."
EXPIRED = "Token expired."
INACTIVE_USER = "User inactive or deleted."


def expires_soon(token: ApiToken, now: datetime) -> bool:
    """Active, with ``EXPIRY_WARNING_DAYS`` or less left: the page, the API and the daily
    notice (``ApiToken.objects.expiring_within``) draw the line at the same moment."""
    return token.state_at(now) == ApiToken.State.ACTIVE and token.expires_at - now <= timedelta(
        days=EXPIRY_WARNING_DAYS
    )


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def default_days() -> int:
    return settings.APPKEEPER_API_TOKEN_DAYS


def max_days() -> int:
    return settings.APPKEEPER_API_TOKEN_MAX_DAYS


def clean_name(value: object) -> str:
    """The name as stored, or a ValidationError on ``name``."""
    name = str(value or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the script that uses it."})
    if len(name) > ApiToken.NAME_MAX:
        raise ValidationError(
            {"name": f"Ensure this name has at most {ApiToken.NAME_MAX} characters."}
        )
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in name):
        raise ValidationError(
            {"name": "Names cannot contain control characters such as line breaks or tabs."}
        )
    return name


def clean_days(value: int | None) -> int:
    if value is None:
        return default_days()
    if not 1 <= value <= max_days():
        raise ValidationError(
            {"expires_in_days": f"Choose a lifetime between 1 and {max_days()} days."}
        )
    return value


def issue(
    *, user: SignedInUser, name: str, days: int | None = None, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its value, which is never stored.

    Refused on ``name`` when the user already has an active token of that name; an expired
    namesake is retired (its ``revoked_at`` set after its expiry, so it still reads expired).
    """
    name = clean_name(name)
    days = clean_days(days)
    now = now or timezone.now()
    with transaction.atomic():
        namesakes = ApiToken.objects.select_for_update().filter(
            user=user, name=name, revoked_at__isnull=True
        )
        for namesake in namesakes:
            if namesake.expires_at > now:
                raise ValidationError(
                    {
                        "name": (
                            f"You already have an active token named “{name}”. "
                            "Choose another name or revoke that one first."
                        )
                    }
                )
            namesake.revoked_at = now
            namesake.save(update_fields=["revoked_at"])
        value = PREFIX + secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    name=name,
                    prefix=value[:SHOWN_CHARS],
                    digest=digest(value),
                    created=now,
                    expires_at=now + timedelta(days=days),
                )
        except IntegrityError:
            # Another request issued the same name between our check and our insert.
            raise ValidationError(
                {"name": f"You already have an active token named “{name}”."}
            ) from None
    logger.info("api token %s (%s…) issued for %s", token.pk, token.prefix, user.get_username())
    return token, value


def revoke(token: ApiToken, *, now: datetime | None = None) -> bool:
    """Retire ``token``; True if this call did it, False if it was already revoked."""
    now = now or timezone.now()
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if changed:
        token.revoked_at = now
        logger.info("api token %s (%s…) revoked", token.pk, token.prefix)
    else:
        token.refresh_from_db(fields=["revoked_at"])
    return bool(changed)


def authenticate_value(value: str, *, now: datetime | None = None) -> tuple[SignedInUser, ApiToken]:
    """The (user, token) a presented token value stands for, or AuthenticationFailed.

    One query (the token with its user) and, at most once per ``TOUCH_INTERVAL``, one
    conditional update of ``last_used_at``.
    """
    if not value or len(value) > MAX_PRESENTED_LENGTH:
        raise AuthenticationFailed(INVALID)
    presented = digest(value)
    token = ApiToken.objects.select_related("user").filter(digest=presented).first()
    # The lookup went by an index on the digest; the comparison repeats it in constant time
    # so the answer never depends on how much of a digest matched.
    if token is None or not hmac.compare_digest(token.digest, presented):
        raise AuthenticationFailed(INVALID)
    now = now or timezone.now()
    state = token.state_at(now)
    if state == ApiToken.State.REVOKED:
        raise AuthenticationFailed(INVALID)
    if state == ApiToken.State.EXPIRED:
        raise AuthenticationFailed(EXPIRED)
    if not token.user.is_active:
        raise AuthenticationFailed(INACTIVE_USER)
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        # Conditional, so concurrent requests write once between them.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOUCH_INTERVAL)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <value>`` with an ``ApiToken``. A request without that header
    is left to the next class (the session); a bad token is a 401 that says why."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[SignedInUser, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) == 1:
            raise AuthenticationFailed("Invalid token header. No credentials provided.")
        if len(parts) > 2:
            raise AuthenticationFailed(
                "Invalid token header. Token string should not contain spaces."
            )
        try:
            value = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(INVALID) from None
        return authenticate_value(value)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents the scheme in the OpenAPI schema, as DRF's own token scheme was."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'API token from the "API tokens" page, sent as `Token apk_...`.',
        }
