"""Telemetry ingestion secrets: issuing and rotating them, with a grace period for the old one."""

from __future__ import annotations

from datetime import datetime

from django.db import (
    transaction,
)
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import AuditEvent, MicroApp, TransitionError
from core.types import Actor
from core.webhooks import new_secret
from lifecycle.services.common import PREVIOUS_SECRET_VALIDITY, when

# --- ingestion secrets ---------------------------------------------------------------------


@transaction.atomic
def app_rotate_secret(*, app: MicroApp, actor: Actor, now: datetime | None = None) -> str:
    """Issue a new ingestion secret and return it (the only time it is shown).

    The first call issues the app's first secret. Later calls keep the old secret valid
    for 24 hours, so a fleet of senders can be switched over without losing reports.
    """
    now = now or timezone.now()
    app = MicroApp.objects.select_for_update().get(pk=app.pk)
    if app.state == AppState.RETIRED:
        raise TransitionError(
            "A retired app no longer receives telemetry, so it needs no secret.",
            code="invalid_transition",
        )
    secret = new_secret()
    fields = ["ingestion_secret", "updated_at"]
    rotated = bool(app.ingestion_secret)
    previous_valid_until = now + PREVIOUS_SECRET_VALIDITY
    if rotated:
        app.previous_ingestion_secret = app.ingestion_secret
        app.previous_secret_valid_until = previous_valid_until
        fields += ["previous_ingestion_secret", "previous_secret_valid_until"]
    app.ingestion_secret = secret
    app.save(update_fields=fields)
    AuditEvent.record(
        app=app,
        actor=actor,
        action="secret_rotated" if rotated else "secret_issued",
        comment=(
            f"The previous secret stays valid until {when(previous_valid_until)}."
            if rotated
            else "First telemetry ingestion secret issued."
        ),
    )
    return secret


def app_issue_secret(*, app: MicroApp, actor: Actor) -> str | None:
    """Issue the app's first secret; None when it has one already (shown only once)."""
    with transaction.atomic():
        locked = MicroApp.objects.select_for_update().get(pk=app.pk)
        if locked.ingestion_secret:
            return None
        return app_rotate_secret(app=locked, actor=actor)
