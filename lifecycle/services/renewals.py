"""Renewing an app (the window and the reasons for refusing a renewal are read in
``lifecycle.selectors``)."""

from __future__ import annotations

from datetime import datetime

from django.db import (
    transaction,
)
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import AuditEvent, MicroApp
from catalog.notifications import notify_owners
from core.types import SignedInUser
from lifecycle.choices import (
    NoticeKind,
    SunsetOutcome,
)
from lifecycle.models import Renewal, SunsetCase
from lifecycle.selectors import renewal_refusal
from lifecycle.services.common import (
    RenewalNotAllowed,
    check_justification,
    send_soon,
    when,
)

# --- renewals ------------------------------------------------------------------------------


@transaction.atomic
def app_renew(
    *, app: MicroApp, actor: SignedInUser, justification: str, now: datetime | None = None
) -> Renewal:
    """Renew an app: ``expires_at = max(now, expires_at) + 90 days`` (a year for critical
    apps, which are re-certified), with the owner's justification kept as a Renewal.

    1. Lock the app row, so two concurrent renewals run one after the other; the second
       then finds the app outside its renewal window and is refused (extends once).
    2. Check the justification and the window (from ``selectors.renewal_window`` before expiry
       through the grace period; also a sunsetting app whose case is for the unrenewed
       expiry).
    3. Active apps get the new expiry; expired or sunsetting ones are reactivated (the
       clock restarts now) and their open ``expired`` sunset case is closed.
    4. Write the Renewal row and the audit event, notify the owners.
    """
    now = now or timezone.now()
    app = (
        MicroApp.objects.select_for_update(of=("self",))
        .select_related("owner", "team")
        .get(pk=app.pk)
    )
    justification = check_justification(justification)
    open_case = (
        SunsetCase.objects.select_for_update().open().filter(app=app).first()
        if app.state == AppState.SUNSETTING
        else None
    )
    refusal = renewal_refusal(app=app, open_case=open_case, now=now)
    if refusal:
        raise RenewalNotAllowed(refusal, code="renewal_not_allowed")
    previous_state, previous_expiry = app.state, app.expires_at
    if app.state == AppState.ACTIVE:
        # renewal_refusal() has refused an active app without an expiry date to extend.
        assert previous_expiry is not None
        app.expires_at = app.next_expiry(max(now, previous_expiry))
        app.save(update_fields=["expires_at", "updated_at"])
        AuditEvent.record(
            app=app,
            actor=actor,
            action="renewed",
            changes={"expires_at": [previous_expiry.isoformat(), app.expires_at.isoformat()]},
            comment=justification,
        )
    else:
        # activate() restarts the clock from now, which is max(now, expires_at) here.
        app.activate(by=actor, comment=f"Renewed: {justification}")
        assert app.expires_at is not None  # activate() has just started the clock
    renewal = Renewal.objects.create(
        app=app,
        renewed_by=actor,
        justification=justification,
        renewed_at=now,
        previous_state=previous_state,
        previous_expires_at=previous_expiry,
        expires_at=app.expires_at,
    )
    if open_case is not None:
        open_case.closed_at = now
        open_case.outcome = SunsetOutcome.REACTIVATED
        open_case.save(update_fields=["closed_at", "outcome"])
    notify_owners(
        app=app,
        kind=NoticeKind.APP_RENEWED,
        subject=f"{app.name} renewed until {app.expires_at:%d %b %Y}",
        body=f"{actor} renewed {app.name} until {when(app.expires_at)}:\n\n{justification}",
        dedupe_key=f"renewal:{renewal.pk}",
        link=app.get_absolute_url(),
    )
    send_soon()
    return renewal
