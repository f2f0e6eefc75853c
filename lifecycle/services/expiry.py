"""Expiring apps whose date has passed, and opening their sunset cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import (
    transaction,
)
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AppState, Criticality
from catalog.models import MicroApp, Notification
from catalog.notifications import (
    owner_notifications,
    platform_team,
    platform_team_notifications,
    queue,
)
from lifecycle.choices import (
    NoticeKind,
    SunsetReason,
)
from lifecycle.services.common import lock_rows, when
from lifecycle.services.reminders import (
    record_superseded,
    recorded_buckets,
    superseded_reminders,
    unsent_in_words,
)
from lifecycle.services.sunset import open_cases_for

# --- expiry --------------------------------------------------------------------------------


@dataclass
class ExpiryResult:
    expired: int = 0
    sunsetting: int = 0
    recertification_overdue: int = 0


def _expired_figures(app: MicroApp) -> dict[str, Any]:
    """What the sunset case of an app that expired unrenewed records."""
    assert app.expires_at is not None  # selected by expires_at__lte
    return {"expired_at": app.expires_at.isoformat(), "grace_days": settings.APPKEEPER_GRACE_DAYS}


def apps_expire(*, now: datetime | None = None) -> ExpiryResult:
    """The hourly expiry sweep; the result counts what this run did, not what it matched.

    1. Active, non-critical apps past ``expires_at`` become ``expired`` (suspended); their
       owners are told they have a grace period to renew. Reminders of the period that
       never went out (the workers were down while they fell due) are recorded as
       superseded, and the notice says they could not be sent in time.
    2. Expired apps past the grace period (``APPKEEPER_GRACE_DAYS``, 30) move to
       ``sunsetting`` with a SunsetCase (reason ``expired``); owners are told when the app
       will be retired.
    3. Critical apps do not expire: one past its re-certification date stays active and
       its owners and the platform team hear about it, once per period (unsent reminders
       are superseded as in step 1).
    Each step runs in one transaction over locked rows, with bulk writes.
    """
    now = now or timezone.now()
    result = ExpiryResult()
    grace = timedelta(days=settings.APPKEEPER_GRACE_DAYS)

    # 1. active → expired
    with transaction.atomic():
        apps = lock_rows(
            MicroApp.objects.filter(state=AppState.ACTIVE, expires_at__lte=now).exclude(
                criticality=Criticality.CRITICAL
            )
        )
        apps = MicroApp.transition_many(
            apps, action="expired", comment="Not renewed before its expiry date.", now=now
        )
        if apps:
            missing = superseded_reminders(apps, recorded=recorded_buckets(apps), now=now)
            record_superseded(apps, missing, now)
            notes = []
            for app in apps:
                assert app.expires_at is not None  # selected by expires_at__lte
                notes += owner_notifications(
                    app=app,
                    kind=NoticeKind.APP_EXPIRED,
                    subject=f"{app.name} has expired",
                    body=(
                        f"{app.name} was not renewed by {when(app.expires_at)} and is now "
                        f"suspended. Renew it before {when(app.expires_at + grace)} to bring "
                        "it back; after that it is sunset and then retired."
                        + unsent_in_words(missing.get(app.pk, []))
                    ),
                    dedupe_key=f"expired:{app.pk}:{app.expires_at:%Y%m%dT%H%M%S}",
                    link=reverse("lifecycle:app-renew", args=[app.slug]),
                )
            queue(notes)
        result.expired = len(apps)

    # 2. expired past grace → sunsetting with a case
    with transaction.atomic():
        apps = lock_rows(
            MicroApp.objects.filter(state=AppState.EXPIRED, expires_at__lte=now - grace)
        )
        if apps:
            result.sunsetting = open_cases_for(
                apps, reason=SunsetReason.EXPIRED, now=now, figures=_expired_figures
            )

    # 3. critical apps past re-certification: notify, do not suspend
    result.recertification_overdue = _recertification_overdue(now)
    return result


def _recertification_overdue(now: datetime) -> int:
    """Tell the owners, team contact and platform team about each critical app past its
    re-certification date, once per period; returns how many apps this run told.

    The apps are locked (``SKIP LOCKED``) and the notices already queued are read under
    the locks, so two runs never both count the same app."""
    overdue_apps = MicroApp.objects.filter(
        state=AppState.ACTIVE, criticality=Criticality.CRITICAL, expires_at__lte=now
    )
    with transaction.atomic():
        apps = lock_rows(overdue_apps)
        if not apps:
            return 0
        told = set(
            Notification.objects.filter(
                kind=NoticeKind.RECERTIFICATION_OVERDUE, app__in=overdue_apps
            ).values_list("dedupe_key", flat=True)
        )
        keys = {app.pk: f"recertify:{app.pk}:{app.expires_at:%Y%m%dT%H%M%S}" for app in apps}
        # A team-owned app has no ":owner" row: any row of its period (all are queued at
        # once) says it was told.
        periods_told = {":".join(key.split(":")[:3]) for key in told}
        apps = [
            app
            for app in apps
            if f"{keys[app.pk]}:owner" not in told
            and (app.owner_id is not None or keys[app.pk] not in periods_told)
        ]
        if not apps:
            return 0
        missing = superseded_reminders(apps, recorded=recorded_buckets(apps), now=now)
        record_superseded(apps, missing, now)
        members = platform_team()
        notes = []
        for app in apps:
            assert app.expires_at is not None  # selected by expires_at__lte
            subject = f"{app.name} is overdue for its re-certification"
            body = (
                f"{app.name} is critical, so it does not expire, but its re-certification was "
                f"due on {when(app.expires_at)}. Its owner should renew it with a justification."
                + unsent_in_words(missing.get(app.pk, []))
            )
            message = {
                "app": app,
                "kind": NoticeKind.RECERTIFICATION_OVERDUE,
                "subject": subject,
                "body": body,
                "dedupe_key": keys[app.pk],
                "link": reverse("lifecycle:app-renew", args=[app.slug]),
            }
            notes += owner_notifications(**message)
            notes += platform_team_notifications(members=members, **message)
        queue(notes)
    return len(apps)
