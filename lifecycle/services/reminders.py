"""Expiry reminders: which of the configured days before expiry is due, and sending them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import (
    transaction,
)
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AppState, Criticality
from catalog.models import MicroApp, Notification
from catalog.notifications import owner_notifications, queue
from core import tokens
from core.dates import days_until, in_days
from core.models import ApiToken
from lifecycle.choices import (
    NoticeKind,
)
from lifecycle.models import Reminder
from lifecycle.selectors import renewal_window
from lifecycle.services.common import when

# --- reminders -----------------------------------------------------------------------------


def reminder_due(expires_at: datetime, now: datetime) -> int | None:
    """The reminder (in days before expiry) due at ``now``: the smallest configured day
    count not below the time left. 20 days left → the 30-day reminder; 5 days → the
    7-day one. An app first seen late gets only the most urgent reminder, not a burst."""
    left = expires_at - now
    if left <= timedelta(0):
        return None
    due = [d for d in settings.APPKEEPER_REMINDER_DAYS if left <= timedelta(days=d)]
    return min(due) if due else None


def reminder_body(app: MicroApp, *, expires_at: datetime, critical: bool) -> str:
    """What a reminder asks for. A critical app is never suspended (``apps_expire``), so
    its reminder must not threaten that: it asks for the re-certification instead."""
    if critical:
        return (
            f"{app.name} ({app.team}) is critical, so it does not expire, but its "
            f"re-certification is due on {when(expires_at)}. Renew it with a short "
            "justification; if it is overdue, its owners and the platform team are told."
        )
    return (
        f"{app.name} ({app.team}) expires on {when(expires_at)}. If it is still "
        "needed, renew it with a short justification; otherwise let it expire and it will "
        f"be suspended, then sunset after a {settings.APPKEEPER_GRACE_DAYS}-day grace period."
    )


def reminders_send(*, now: datetime | None = None) -> int:
    """Send the expiry reminders due today; returns how many were due.

    1. Read the active apps whose renewal window is open (expiring within the largest
       reminder; one query, with owner and team).
    2. Work out the reminder due for each (:func:`reminder_due`) and drop those already
       recorded for the same expiry period (one query over Reminder).
    3. In one transaction insert the Reminder rows and the owner/team notifications in
       bulk, ignoring conflicts: the unique constraint (app, expires_at, days_before) and
       the notifications' dedupe keys make a second or concurrent run insert nothing.
    """
    now = now or timezone.now()
    horizon = now + renewal_window()
    apps = list(
        MicroApp.objects.filter(state=AppState.ACTIVE, expires_at__gt=now, expires_at__lte=horizon)
        .select_related("owner", "team")
        .order_by("pk")
    )
    sent = set(
        Reminder.objects.filter(expires_at__gt=now, expires_at__lte=horizon).values_list(
            "app_id", "expires_at", "days_before"
        )
    )
    reminders: list[Reminder] = []
    notes = []
    for app in apps:
        days = reminder_due(app.expires_at, now)
        if days is None or (app.pk, app.expires_at, days) in sent:
            continue
        reminders.append(
            Reminder(app=app, expires_at=app.expires_at, days_before=days, sent_at=now)
        )
        critical = app.criticality == Criticality.CRITICAL
        what = "re-certification" if critical else "expiry"
        # The reminder's bucket (30, 14, 7, 1) only picks which reminder this is; people
        # are told the days actually left, rounded as the badges and panels round them.
        left = in_days(days_until(app.expires_at, now=now) or 0)
        notes += owner_notifications(
            app=app,
            kind=NoticeKind.EXPIRY_REMINDER,
            subject=f"{app.name} is due for {what} {left}",
            body=reminder_body(app, expires_at=app.expires_at, critical=critical),
            dedupe_key=f"reminder:{app.pk}:{app.expires_at:%Y%m%dT%H%M%S}:{days}",
            link=reverse("lifecycle:app-renew", args=[app.slug]),
        )
    if reminders:
        with transaction.atomic():
            # No batch_size: one INSERT whatever the fleet size (see ``catalog.notifications.
            # queue``), so the job's query count stays flat; SQLite chunks by its own limit.
            Reminder.objects.bulk_create(reminders, ignore_conflicts=True)
            queue(notes)
    return len(reminders)


# --- API tokens ------------------------------------------------------------------------------


def token_reminders_send(*, now: datetime | None = None) -> int:
    """Tell each owner once when an active API token of theirs has
    ``core.tokens.EXPIRY_WARNING_DAYS`` (7) days or less left; returns how many were new.

    Tokens are not renewed (a replacement is a new secret), so one notice a token is
    enough; the API tokens page shows the same warning meanwhile. Three queries whatever
    the number of tokens: the tokens due with their users, the notices already queued for
    them, and one bulk insert of the rest. The dedupe key (the token and its expiry) makes
    a concurrent run insert nothing twice.
    """
    now = now or timezone.now()
    due = list(
        ApiToken.objects.expiring_within(tokens.EXPIRY_WARNING_DAYS, now)
        .filter(user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    keys = {t.pk: f"api-token-expiring:{t.pk}:{t.expires_at:%Y%m%dT%H%M%S}" for t in due}
    if not keys:
        return 0
    queued = set(
        Notification.objects.filter(dedupe_key__in=keys.values()).values_list(
            "dedupe_key", flat=True
        )
    )
    link = reverse("api-tokens")
    notes = [
        Notification(
            recipient=token.user,
            kind=NoticeKind.API_TOKEN_EXPIRING,
            subject=(
                f"Your API token “{token.name}” expires "
                f"{in_days(days_until(token.expires_at, now=now) or 0)}"
            ),
            body=(
                f"Your API token “{token.name}” ({token.prefix}…) stops working on "
                f"{when(token.expires_at)}. Issue a replacement on the API tokens page, "
                "switch whatever uses this one to it, then revoke the old token."
            ),
            dedupe_key=keys[token.pk],
            link=link,
        )
        for token in due
        if keys[token.pk] not in queued
    ]
    if notes:
        queue(notes)
    return len(notes)
