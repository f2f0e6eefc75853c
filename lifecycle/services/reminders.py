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
from core.dates import day_list, days_until, in_days, time_left_in_words
from core.models import ApiToken
from lifecycle.choices import (
    NoticeKind,
)
from lifecycle.models import Reminder
from lifecycle.selectors import renewal_window
from lifecycle.services.common import lock_rows, when

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


def passed_buckets(expires_at: datetime, now: datetime) -> list[int]:
    """The configured reminders (days before expiry) whose time has come by ``now``."""
    return sorted(
        d for d in settings.APPKEEPER_REMINDER_DAYS if expires_at - timedelta(days=d) <= now
    )


def recorded_buckets(apps: list[MicroApp]) -> set[tuple[int, datetime, int]]:
    """``(app, expires_at, days_before)`` of the reminders recorded for the apps' current
    periods, sent or superseded. One query, bounded by the apps' expiry range rather than a
    list of ids, so it stays one statement whatever the fleet size."""
    if not apps:
        return set()
    moments = [app.expires_at for app in apps if app.expires_at is not None]
    if not moments:
        return set()
    return set(
        Reminder.objects.filter(
            expires_at__gte=min(moments), expires_at__lte=max(moments)
        ).values_list("app_id", "expires_at", "days_before")
    )


def superseded_reminders(
    apps: list[MicroApp], *, recorded: set[tuple[int, datetime, int]], now: datetime
) -> dict[int, list[int]]:
    """For each app past expiry, the reminders of its period that were never recorded (the
    reminder job was not running while they fell due), as ``{app pk: [days, ...]}``; their
    rows are recorded as superseded by the caller's notice, so none is sent afterwards.

    Only those more urgent than the last reminder recorded: an earlier one that has no
    row was replaced by that later reminder (an app first seen late gets the most urgent
    one only), so the notice must not claim it was missed."""
    missing: dict[int, list[int]] = {}
    for app in apps:
        assert app.expires_at is not None  # selected by expires_at__lte
        seen = [d for (pk, at, d) in recorded if pk == app.pk and at == app.expires_at]
        last = min(seen, default=max(settings.APPKEEPER_REMINDER_DAYS) + 1)
        days = [
            d
            for d in passed_buckets(app.expires_at, now)
            if d < last and (app.pk, app.expires_at, d) not in recorded
        ]
        if days:
            missing[app.pk] = days
    return missing


def record_superseded(apps: list[MicroApp], missing: dict[int, list[int]], now: datetime) -> None:
    """Insert the superseded reminder rows of :func:`superseded_reminders` in one query."""
    rows = [
        Reminder(app=app, expires_at=expires_at, days_before=d, sent_at=now, superseded=True)
        for app in apps
        if (expires_at := app.expires_at) is not None
        for d in missing.get(app.pk, [])
    ]
    if rows:
        Reminder.objects.bulk_create(rows, ignore_conflicts=True)


def unsent_in_words(days: list[int]) -> str:
    """The sentence an expiry or overdue notice adds when it replaces unsent reminders."""
    if not days:
        return ""
    which, them = ("reminder", "it") if len(days) == 1 else ("reminders", "them")
    return (
        f"\n\nThe {which} due {day_list(days)} before that date could not be sent in "
        f"time (the reminder job was not running then); this notice replaces {them}."
    )


def reminders_send(*, now: datetime | None = None) -> int:
    """Send the expiry reminders that have fallen due; returns how many this run sent.

    Runs hourly, so a reminder goes out within the hour after ``expires_at - N days``.

    1. Lock the active apps whose renewal window is open (expiring within the largest
       reminder; one query, with owner and team). ``SKIP LOCKED``: apps a concurrent run,
       or the expiry job, holds are theirs.
    2. Work out the reminder due for each (:func:`reminder_due`) and drop those already
       recorded for the same expiry period (one query over Reminder, read under the locks,
       so it sees what a run that held them before has committed).
    3. Insert the Reminder rows and the owner/team notifications in bulk. Earlier reminders
       of the period that were never recorded (the job was not running) are recorded as
       superseded by this one, which states the exact time left.
    """
    now = now or timezone.now()
    horizon = now + renewal_window()
    with transaction.atomic():
        apps = lock_rows(
            MicroApp.objects.filter(
                state=AppState.ACTIVE, expires_at__gt=now, expires_at__lte=horizon
            )
        )
        recorded = recorded_buckets(apps)
        reminders: list[Reminder] = []
        notes = []
        for app in apps:
            assert app.expires_at is not None  # selected by expires_at__gt
            days = reminder_due(app.expires_at, now)
            if days is None or (app.pk, app.expires_at, days) in recorded:
                continue
            reminders.append(
                Reminder(app=app, expires_at=app.expires_at, days_before=days, sent_at=now)
            )
            reminders += [
                Reminder(
                    app=app, expires_at=app.expires_at, days_before=d, sent_at=now, superseded=True
                )
                for d in passed_buckets(app.expires_at, now)
                if d > days and (app.pk, app.expires_at, d) not in recorded
            ]
            critical = app.criticality == Criticality.CRITICAL
            what = "re-certification" if critical else "expiry"
            # The bucket (30, 14, 7, 1) only picks which reminder this is; people are told
            # the time actually left, to the hour once it is under two days.
            left = time_left_in_words(app.expires_at - now)
            notes += owner_notifications(
                app=app,
                kind=NoticeKind.EXPIRY_REMINDER,
                subject=f"{app.name} is due for {what} {left}",
                body=reminder_body(app, expires_at=app.expires_at, critical=critical),
                dedupe_key=f"reminder:{app.pk}:{app.expires_at:%Y%m%dT%H%M%S}:{days}",
                link=reverse("lifecycle:app-renew", args=[app.slug]),
            )
        if reminders:
            # No batch_size: one INSERT whatever the fleet size (see ``catalog.notifications.
            # queue``), so the job's query count stays flat; SQLite chunks by its own limit.
            Reminder.objects.bulk_create(reminders, ignore_conflicts=True)
            queue(notes)
    return sum(1 for r in reminders if not r.superseded)


# --- API tokens ------------------------------------------------------------------------------


def token_reminders_send(*, now: datetime | None = None) -> int:
    """Tell each owner once when an active API token of theirs has
    ``core.tokens.EXPIRY_WARNING_DAYS`` (7) days or less left; returns how many were new.

    Tokens are not renewed (a replacement is a new secret), so one notice a token is
    enough; the API tokens page shows the same warning meanwhile. Three queries whatever
    the number of tokens, in one transaction: the tokens due with their users (locked),
    the notices already queued for them, and one bulk insert of the rest. The dedupe key
    (the token and its expiry) makes a concurrent run insert nothing twice, and the lock
    keeps it from counting what the other run queued.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Locked (SKIP LOCKED) so the notices already queued are read under the lock: a
        # concurrent run neither queues nor counts the tokens this one holds.
        due = list(
            ApiToken.objects.expiring_within(tokens.EXPIRY_WARNING_DAYS, now)
            .filter(user__is_active=True)
            .select_for_update(skip_locked=True, of=("self",))
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
