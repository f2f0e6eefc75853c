"""Lifecycle writes: renewals, secrets, reminders, expiry, sunset cases, telemetry.

Each public function is one transaction (or a short sequence of them, for the jobs) and
leaves an audit trail. The daily jobs work on the whole fleet in a fixed number of
queries, whatever its size: rows are read in one query, claimed under a row lock
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises write transactions) or by a
unique constraint, and written in bulk. That is also what lets a job run twice, or on two
workers at once, and still do its work once.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.backends.postgresql import base as postgresql_backend
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import (
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from catalog.audit import current_request_id
from catalog.choices import AppState, Criticality
from catalog.models import AuditEvent, MicroApp, TransitionError
from catalog.notifications import notify_owners, notify_platform_team, owner_notifications, queue
from lifecycle.choices import (
    NoticeKind,
    SunsetDecision,
    SunsetOutcome,
    SunsetReason,
    SunsetResponse,
)
from lifecycle.models import Reminder, Renewal, SunsetCase, TelemetryDelivery, UsageReport

logger = logging.getLogger(__name__)

JUSTIFICATION_MIN_CHARS = 20
SECRET_PREFIX = "whsec_"
PREVIOUS_SECRET_VALIDITY = timedelta(hours=24)
# A sunset case for low usage needs a quarter of history; an upheld contest buys a quarter.
USAGE_WINDOW_DAYS = 90


class RenewalNotAllowed(TransitionError):
    """A renewal outside its window, or of an app in a state that cannot be renewed."""


class SunsetCaseError(TransitionError):
    """An answer or decision a sunset case cannot take in its current state."""


# --- helpers -------------------------------------------------------------------------------


def _send_soon() -> None:
    """Drain the outbox right after this transaction commits, instead of at the next beat."""

    def enqueue() -> None:
        from catalog.tasks import send_notifications

        try:
            send_notifications.delay()
        except Exception:  # the broker is down: the every-minute beat will send them
            logger.warning("Could not enqueue catalog.send_notifications", exc_info=True)

    transaction.on_commit(enqueue)


def _audit_rows(apps, *, action: str, changes: dict, comment: str = "", data_for=None):
    """AuditEvent rows for a bulk transition (what ``MicroApp._move`` writes one by one)."""
    request_id = current_request_id()
    return [
        AuditEvent(
            app=app,
            actor=None,
            action=action,
            changes=changes,
            comment=comment,
            data=data_for(app) if data_for else {},
            request_id=request_id,
        )
        for app in apps
    ]


def _check_justification(text: str, field: str = "justification") -> str:
    text = (text or "").strip()
    if len(text) < JUSTIFICATION_MIN_CHARS:
        raise ValidationError(
            {field: f"Explain in at least {JUSTIFICATION_MIN_CHARS} characters why."}
        )
    return text


def _when(moment: datetime) -> str:
    return f"{moment:%d %b %Y %H:%M} UTC"


# --- renewals ------------------------------------------------------------------------------


def renewal_opens_at(app: MicroApp) -> datetime | None:
    """Renewal opens as soon as the first reminder goes out (30 days before expiry)."""
    if app.expires_at is None:
        return None
    return app.expires_at - timedelta(days=max(settings.APPKEEPER_REMINDER_DAYS))


def renewal_refusal(app: MicroApp, *, open_case: SunsetCase | None = None, now=None) -> str:
    """Why the app cannot be renewed now, or "" if it can.

    ``open_case`` is the app's open sunset case, if any (pass it to save a query when
    the caller has it; only looked up for sunsetting apps).
    """
    now = now or timezone.now()
    if app.state == AppState.ACTIVE:
        opens = renewal_opens_at(app)
        if opens is None:
            return "This app has no expiry date to extend."
        if now < opens:
            return f"Renewal opens on {opens:%d %b %Y}, 30 days before the app expires."
        return ""
    if app.state == AppState.EXPIRED:
        return ""
    if app.state == AppState.SUNSETTING:
        if open_case is None:
            open_case = SunsetCase.objects.open().filter(app=app).first()
        if open_case is not None and open_case.reason == SunsetReason.EXPIRED:
            return ""
        return "This app is being sunset for low usage; answer the sunset case instead."
    return f"An app that is {app.get_state_display().lower()} cannot be renewed."


@transaction.atomic
def app_renew(*, app: MicroApp, actor, justification: str, now=None) -> Renewal:
    """Renew an app: ``expires_at = max(now, expires_at) + 90 days`` (a year for critical
    apps, which are re-certified), with the owner's justification kept as a Renewal.

    1. Lock the app row, so two concurrent renewals run one after the other; the second
       then finds the app outside its renewal window and is refused (extends once).
    2. Check the justification and the window (from 30 days before expiry through the
       grace period; also a sunsetting app whose case is for the unrenewed expiry).
    3. Active apps get the new expiry; expired or sunsetting ones are reactivated (the
       clock restarts now) and their open ``expired`` sunset case is closed.
    4. Write the Renewal row and the audit event, notify the owners.
    """
    now = now or timezone.now()
    app = MicroApp.objects.select_for_update().select_related("owner", "team").get(pk=app.pk)
    justification = _check_justification(justification)
    open_case = (
        SunsetCase.objects.select_for_update().open().filter(app=app).first()
        if app.state == AppState.SUNSETTING
        else None
    )
    refusal = renewal_refusal(app, open_case=open_case, now=now)
    if refusal:
        raise RenewalNotAllowed(refusal, code="renewal_not_allowed")
    previous_state, previous_expiry = app.state, app.expires_at
    if app.state == AppState.ACTIVE:
        app.expires_at = app.next_expiry(max(now, app.expires_at))
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
        body=f"{actor} renewed {app.name} until {_when(app.expires_at)}:\n\n{justification}",
        dedupe_key=f"renewal:{renewal.pk}",
        link=app.get_absolute_url(),
    )
    _send_soon()
    return renewal


# --- ingestion secrets ---------------------------------------------------------------------


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (the Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@transaction.atomic
def app_rotate_secret(*, app: MicroApp, actor, now=None) -> str:
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
    if rotated:
        app.previous_ingestion_secret = app.ingestion_secret
        app.previous_secret_valid_until = now + PREVIOUS_SECRET_VALIDITY
        fields += ["previous_ingestion_secret", "previous_secret_valid_until"]
    app.ingestion_secret = secret
    app.save(update_fields=fields)
    AuditEvent.record(
        app=app,
        actor=actor,
        action="secret_rotated" if rotated else "secret_issued",
        comment=(
            f"The previous secret stays valid until {_when(app.previous_secret_valid_until)}."
            if rotated
            else "First telemetry ingestion secret issued."
        ),
    )
    return secret


def app_issue_secret(*, app: MicroApp, actor) -> str | None:
    """Issue the app's first secret; None when it has one already (shown only once)."""
    with transaction.atomic():
        locked = MicroApp.objects.select_for_update().get(pk=app.pk)
        if locked.ingestion_secret:
            return None
        return app_rotate_secret(app=locked, actor=actor)


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


def reminders_send(*, now=None) -> int:
    """Send the expiry reminders due today; returns how many were due.

    1. Read the active apps expiring within the largest reminder window (one query, with
       owner and team).
    2. Work out the reminder due for each (:func:`reminder_due`) and drop those already
       recorded for the same expiry period (one query over Reminder).
    3. In one transaction insert the Reminder rows and the owner/team notifications in
       bulk, ignoring conflicts: the unique constraint (app, expires_at, days_before) and
       the notifications' dedupe keys make a second or concurrent run insert nothing.
    """
    now = now or timezone.now()
    horizon = now + timedelta(days=max(settings.APPKEEPER_REMINDER_DAYS))
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
        what = "re-certification" if app.criticality == Criticality.CRITICAL else "expiry"
        left = "tomorrow" if days == 1 else f"in {days} days"
        notes += owner_notifications(
            app=app,
            kind=NoticeKind.EXPIRY_REMINDER,
            subject=f"{app.name} is due for {what} {left}",
            body=(
                f"{app.name} ({app.team}) expires on {_when(app.expires_at)}. If it is still "
                "needed, renew it with a short justification; otherwise let it expire and "
                f"it will be suspended, then sunset after a {settings.APPKEEPER_GRACE_DAYS}-"
                "day grace period."
            ),
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


# --- expiry --------------------------------------------------------------------------------


@dataclass
class ExpiryResult:
    expired: int = 0
    sunsetting: int = 0
    recertification_overdue: int = 0


def _lock(queryset):
    """Lock the rows of ``queryset`` for this transaction, skipping rows another worker
    holds (it is handling them); on SQLite the IMMEDIATE transaction is the lock."""
    return list(
        queryset.select_for_update(skip_locked=True, of=("self",))
        .select_related("owner", "team")
        .order_by("pk")
    )


def apps_expire(*, now=None) -> ExpiryResult:
    """The daily expiry sweep.

    1. Active, non-critical apps past ``expires_at`` become ``expired`` (suspended); their
       owners are told they have a grace period to renew.
    2. Expired apps past the grace period (``APPKEEPER_GRACE_DAYS``, 30) move to
       ``sunsetting`` with a SunsetCase (reason ``expired``); owners are told when the app
       will be retired.
    3. Critical apps do not expire: one past its re-certification date stays active and
       its owners and the platform team hear about it, once per period.
    Steps 1 and 2 each run in one transaction over locked rows, with bulk writes.
    """
    now = now or timezone.now()
    result = ExpiryResult()
    grace = timedelta(days=settings.APPKEEPER_GRACE_DAYS)

    # 1. active → expired
    with transaction.atomic():
        apps = _lock(
            MicroApp.objects.filter(state=AppState.ACTIVE, expires_at__lte=now).exclude(
                criticality=Criticality.CRITICAL
            )
        )
        if apps:
            MicroApp.objects.filter(pk__in=[a.pk for a in apps]).update(
                state=AppState.EXPIRED, updated_at=now
            )
            AuditEvent.objects.bulk_create(
                _audit_rows(
                    apps,
                    action="expired",
                    changes={"state": [AppState.ACTIVE, AppState.EXPIRED]},
                    comment="Not renewed before its expiry date.",
                )
            )
            notes = []
            for app in apps:
                notes += owner_notifications(
                    app=app,
                    kind=NoticeKind.APP_EXPIRED,
                    subject=f"{app.name} has expired",
                    body=(
                        f"{app.name} was not renewed by {_when(app.expires_at)} and is now "
                        f"suspended. Renew it before {_when(app.expires_at + grace)} to bring "
                        "it back; after that it is sunset and then retired."
                    ),
                    dedupe_key=f"expired:{app.pk}:{app.expires_at:%Y%m%dT%H%M%S}",
                    link=reverse("lifecycle:app-renew", args=[app.slug]),
                )
            queue(notes)
        result.expired = len(apps)

    # 2. expired past grace → sunsetting with a case
    with transaction.atomic():
        apps = _lock(MicroApp.objects.filter(state=AppState.EXPIRED, expires_at__lte=now - grace))
        if apps:
            result.sunsetting = _open_cases(
                apps, reason=SunsetReason.EXPIRED, now=now, figures=lambda app: {
                    "expired_at": app.expires_at.isoformat(),
                    "grace_days": settings.APPKEEPER_GRACE_DAYS,
                },
            )  # fmt: skip

    # 3. critical apps past re-certification: notify, do not suspend
    overdue = list(
        MicroApp.objects.filter(
            state=AppState.ACTIVE, criticality=Criticality.CRITICAL, expires_at__lte=now
        ).select_related("owner", "team")
    )
    if overdue:
        notes = []
        for app in overdue:
            key = f"recertify:{app.pk}:{app.expires_at:%Y%m%dT%H%M%S}"
            subject = f"{app.name} is overdue for its yearly re-certification"
            body = (
                f"{app.name} is critical, so it does not expire, but its re-certification was "
                f"due on {_when(app.expires_at)}. Its owner should renew it with a justification."
            )
            link = reverse("lifecycle:app-renew", args=[app.slug])
            notes += owner_notifications(
                app=app,
                kind=NoticeKind.RECERTIFICATION_OVERDUE,
                subject=subject,
                body=body,
                dedupe_key=key,
                link=link,
            )
        queue(notes)
        result.recertification_overdue = len(overdue)
    return result


def _open_cases(apps: list[MicroApp], *, reason: str, now, figures) -> int:
    """Move locked apps to ``sunsetting`` with an open case each, audit and notify.
    Runs inside the caller's transaction; returns how many cases were opened."""
    grace_end = now + timedelta(days=settings.APPKEEPER_SUNSET_RESPONSE_DAYS)
    cases = [
        SunsetCase(app=app, reason=reason, opened_at=now, grace_ends_at=grace_end,
                   figures=figures(app))
        for app in apps
    ]  # fmt: skip
    # The partial unique index (one open case per app) is the last line of defence.
    SunsetCase.objects.bulk_create(cases, ignore_conflicts=True)  # one INSERT (see queue)
    previous = {app.pk: app.state for app in apps}
    MicroApp.objects.filter(pk__in=list(previous)).update(state=AppState.SUNSETTING, updated_at=now)
    label = SunsetReason(reason).label.lower()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                app=app,
                action="sunset_started",
                changes={"state": [previous[app.pk], AppState.SUNSETTING]},
                comment=f"Sunset case opened: {label}.",
                data=figures(app),
                request_id=current_request_id(),
            )
            for app in apps
        ]
    )
    notes = []
    for app in apps:
        facts = figures(app)
        if reason == SunsetReason.LOW_USAGE:
            why = (
                f"{app.name} served {facts['requests']:,} requests in the last "
                f"{facts['days']} days ({facts['errors']:,} errors, cost {facts['cost']} "
                f"{settings.APPKEEPER_CURRENCY}); the threshold is {facts['threshold']:,}."
            )
        else:
            why = (
                f"{app.name} expired on {_when(app.expires_at)} and was not renewed within "
                f"the {settings.APPKEEPER_GRACE_DAYS}-day grace period. Renewing it now "
                "brings it back."
            )
        notes += owner_notifications(
            app=app,
            kind=NoticeKind.SUNSET_NOTICE,
            subject=f"{app.name} will be retired on {grace_end:%d %b %Y}",
            body=(
                f"{why}\n\nAccept the retirement, or contest it with a justification before "
                f"{_when(grace_end)}. Without an answer the app is retired then; its data "
                "and history are kept."
            ),
            dedupe_key=f"sunset:{app.pk}:{reason}:{now:%Y%m%d}",
            link=app.get_absolute_url() + "#lifecycle",
        )
    queue(notes)
    return len(apps)


# --- usage sunsetting ----------------------------------------------------------------------


def _usage_sum(field: str, since: date, output):
    rows = (
        UsageReport.objects.filter(app=OuterRef("pk"), date__gte=since)
        .order_by()
        .values("app")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=output), Value(0, output_field=output))


def low_usage_candidates(*, now=None):
    """Active apps live for more than a quarter whose trailing-90-day requests are below
    ``APPKEEPER_SUNSET_MIN_REQUESTS`` (no telemetry counts as zero), without an open
    case and without a case closed in the last quarter (an upheld contest buys a
    quarter). One query; annotated with the figures the owner is shown."""
    now = now or timezone.now()
    since = now.date() - timedelta(days=USAGE_WINDOW_DAYS - 1)
    recent_cases = SunsetCase.objects.filter(app=OuterRef("pk")).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=now - timedelta(days=USAGE_WINDOW_DAYS))
    )
    return (
        MicroApp.objects.filter(
            state=AppState.ACTIVE,
            went_live_at__lte=now - timedelta(days=USAGE_WINDOW_DAYS),
        )
        .exclude(Exists(recent_cases))
        .annotate(
            recent_requests=_usage_sum("requests", since, IntegerField()),
            recent_errors=_usage_sum("errors", since, IntegerField()),
            recent_cost=_usage_sum("cost", since, DecimalField(max_digits=20, decimal_places=4)),
        )
        .filter(recent_requests__lt=settings.APPKEEPER_SUNSET_MIN_REQUESTS)
        .order_by("pk")
    )


def sunset_cases_open(*, now=None) -> int:
    """Open a low-usage sunset case for each app that qualifies; returns how many.

    1. Compute the candidates and their figures in one aggregate query
       (:func:`low_usage_candidates`).
    2. Lock those still active (``SKIP LOCKED``: a concurrent run gets none of them).
    3. Move them to ``sunsetting`` with one open case each (unique per app), audit, and
       notify the owners with the figures — all in bulk, in one transaction.
    """
    now = now or timezone.now()
    facts = {
        row["pk"]: row
        for row in low_usage_candidates(now=now).values(
            "pk", "recent_requests", "recent_errors", "recent_cost"
        )
    }
    if not facts:
        return 0

    def figures(app: MicroApp) -> dict:
        row = facts[app.pk]
        return {
            "requests": int(row["recent_requests"] or 0),
            "errors": int(row["recent_errors"] or 0),
            "cost": str(Decimal(row["recent_cost"] or 0).quantize(Decimal("0.01"))),
            "threshold": settings.APPKEEPER_SUNSET_MIN_REQUESTS,
            "days": USAGE_WINDOW_DAYS,
        }

    with transaction.atomic():
        apps = _lock(MicroApp.objects.filter(pk__in=list(facts), state=AppState.ACTIVE))
        if not apps:
            return 0
        return _open_cases(apps, reason=SunsetReason.LOW_USAGE, now=now, figures=figures)


def sunset_cases_close(*, now=None) -> int:
    """Retire the apps whose sunset case went unanswered; returns how many were retired.

    1. Lock the open cases past their grace end that nobody contested, plus any open
       case whose app already left ``sunsetting`` some other way (stale).
    2. Retire the apps still sunsetting (bulk update with ``retired_at`` and a reason,
       bulk audit events); close every locked case with its outcome.
    3. Tell the owners. Contested cases wait for the platform team's decision.
    """
    now = now or timezone.now()
    with transaction.atomic():
        cases = list(
            SunsetCase.objects.open()
            .filter(Q(grace_ends_at__lte=now, response="") | ~Q(app__state=AppState.SUNSETTING))
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("app", "app__owner", "app__team")
            .order_by("pk")
        )
        if not cases:
            return 0
        retiring = [c for c in cases if c.app.state == AppState.SUNSETTING]
        apps = [c.app for c in retiring]
        case_of = {c.app_id: c.pk for c in retiring}
        reason = "No answer to the sunset notice by the end of its grace period."
        if apps:
            MicroApp.objects.filter(pk__in=[a.pk for a in apps], state=AppState.SUNSETTING).update(
                state=AppState.RETIRED, retired_at=now, retired_reason=reason, updated_at=now
            )
            AuditEvent.objects.bulk_create(
                _audit_rows(
                    apps,
                    action="retired",
                    changes={
                        "state": [AppState.SUNSETTING, AppState.RETIRED],
                        "retired_reason": [None, reason],
                    },
                    comment=reason,
                    data_for=lambda app: {"sunset_case": case_of[app.pk]},
                )
            )
        for case in cases:
            case.closed_at = now
            case.outcome = (
                SunsetOutcome.RETIRED
                if case in retiring or case.app.state == AppState.RETIRED
                else SunsetOutcome.WITHDRAWN
            )
        SunsetCase.objects.bulk_update(cases, ["closed_at", "outcome"], batch_size=500)
        notes = []
        for case in retiring:
            notes += owner_notifications(
                app=case.app,
                kind=NoticeKind.SUNSET_CLOSED,
                subject=f"{case.app.name} has been retired",
                body=(
                    f"Sunset case #{case.pk} for {case.app.name} got no answer by "
                    f"{_when(case.grace_ends_at)}, so the app is retired. Its contracts, "
                    "usage and history are kept and stay searchable."
                ),
                dedupe_key=f"sunset-case:{case.pk}:closed",
                link=case.app.get_absolute_url(),
            )
        queue(notes)
    return len(retiring)


def _locked_case(case: SunsetCase) -> tuple[SunsetCase, MicroApp]:
    """Lock the app first, then the case: the same order as renewals, so no deadlocks."""
    app = MicroApp.objects.select_for_update().select_related("owner", "team").get(pk=case.app_id)
    case = SunsetCase.objects.select_for_update().get(pk=case.pk)
    case.app = app
    return case, app


@transaction.atomic
def sunset_respond(*, case: SunsetCase, actor, response: str, justification: str = "",
                   now=None) -> SunsetCase:  # fmt: skip
    """The owner's answer to a sunset case, within its grace period.

    ``accept`` retires the app at once. ``contest`` (with a justification of at least 20
    characters) hands the case to the platform team, who decide it; until then the daily
    job leaves it alone.
    """
    now = now or timezone.now()
    if response not in SunsetResponse.values:
        raise ValidationError({"response": f"Choose one of: {', '.join(SunsetResponse.values)}."})
    case, app = _locked_case(case)
    if not case.is_open:
        raise SunsetCaseError("This sunset case is closed.", code="invalid_transition")
    if case.response:
        raise SunsetCaseError(
            f"This sunset case was already answered ({case.get_response_display().lower()}).",
            code="invalid_transition",
        )
    if now > case.grace_ends_at:
        raise SunsetCaseError(
            f"The time to answer ended on {_when(case.grace_ends_at)}.",
            code="invalid_transition",
        )
    if response == SunsetResponse.CONTEST:
        justification = _check_justification(justification)
    case.response = response
    case.justification = justification.strip()
    case.responded_by = actor
    case.responded_at = now
    fields = ["response", "justification", "responded_by", "responded_at"]
    if response == SunsetResponse.ACCEPT:
        app.retire(by=actor, reason=f"The owner accepted sunset case #{case.pk}.")
        case.closed_at = now
        case.outcome = SunsetOutcome.RETIRED
        fields += ["closed_at", "outcome"]
        case.save(update_fields=fields)
        return case
    case.save(update_fields=fields)
    AuditEvent.record(
        app=app,
        actor=actor,
        action="sunset_contested",
        comment=case.justification,
        data={"sunset_case": case.pk},
    )
    notify_platform_team(
        kind=NoticeKind.SUNSET_CONTESTED,
        subject=f"Sunset of {app.name} contested",
        body=f"{actor} contests sunset case #{case.pk} for {app.name}:\n\n{case.justification}",
        dedupe_key=f"sunset-case:{case.pk}:contested",
        app=app,
        link=app.get_absolute_url() + "#lifecycle",
    )
    _send_soon()
    return case


@transaction.atomic
def sunset_decide(*, case: SunsetCase, actor, decision: str, comment: str = "",
                  now=None) -> SunsetCase:  # fmt: skip
    """The platform team's decision on a contested case: ``uphold`` puts the app back to
    ``active`` with a fresh expiry; ``retire`` retires it."""
    now = now or timezone.now()
    if decision not in SunsetDecision.values:
        raise ValidationError({"decision": f"Choose one of: {', '.join(SunsetDecision.values)}."})
    case, app = _locked_case(case)
    if not case.can_decide:
        state = "closed" if not case.is_open else "not contested"
        raise SunsetCaseError(
            f"Only an open, contested case can be decided; this one is {state}.",
            code="invalid_transition",
        )
    comment = (comment or "").strip()
    if decision == SunsetDecision.UPHOLD:
        app.activate(by=actor, comment=f"Sunset case #{case.pk} contest upheld. {comment}".strip())
        case.outcome = SunsetOutcome.REACTIVATED
        subject = f"{app.name} stays: your contest was upheld"
        body = f"{app.name} is active again until {_when(app.expires_at)}."
    else:
        app.retire(
            by=actor,
            reason=f"Sunset case #{case.pk}: contest rejected by the platform team. {comment}",
        )
        case.outcome = SunsetOutcome.RETIRED
        subject = f"{app.name} is retired: your contest was not upheld"
        body = f"{app.name} has been retired. Its data and history are kept."
    case.decision = decision
    case.decision_comment = comment
    case.decided_by = actor
    case.decided_at = now
    case.closed_at = now
    case.save(
        update_fields=["decision", "decision_comment", "decided_by", "decided_at", "closed_at",
                       "outcome"]
    )  # fmt: skip
    notify_owners(
        app=app,
        kind=NoticeKind.SUNSET_CLOSED,
        subject=subject,
        body=f"{body}\n\n{comment}".strip(),
        dedupe_key=f"sunset-case:{case.pk}:decided",
        link=app.get_absolute_url() + "#lifecycle",
    )
    _send_soon()
    return case


# --- telemetry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict
    replayed: bool = False  # the answer stored for an earlier delivery of this webhook id
    text: str = ""  # ``body`` as the JSON already written to the database, when at hand


class DeliveryConflict(Exception):
    """The webhook id was used before for a different body."""


@dataclass(frozen=True)
class Credentials:
    """What verifying a delivery needs to know about its app, as read at ``loaded_at``.

    ``keys`` are the current secret and, if it was still valid when read, the previous
    one (empty strings left out)."""

    app_id: int
    slug: str
    state: str
    keys: tuple[str, ...]
    loaded_at: float


# Per-process cache of telemetry credentials (issue 8), PostgreSQL only: slug → Credentials.
# An entry is only a guess at which secret signed a call. The one write statement
# (telemetry_store(verify=...)) re-checks in SQL that the app still has that slug, is not
# retired and still accepts that secret, and writes nothing otherwise; the view then drops
# the entry and answers from a fresh read, exactly as without the cache. So a rotation,
# retirement or lapse of the previous secret is seen by the next call, whatever the TTL;
# the TTL and the size bound only keep entries for apps that stopped calling from piling up.
CREDENTIALS_CACHE_SECONDS = 30.0
CREDENTIALS_CACHE_SIZE = 20_000
_credentials_cache: dict[str, Credentials] = {}


def telemetry_cached_credentials(slug: str) -> Credentials | None:
    """The cached credentials of ``slug`` if fresh; None on a miss and on SQLite."""
    entry = _credentials_cache.get(slug)
    if entry is None:
        return None
    if time.monotonic() - entry.loaded_at >= CREDENTIALS_CACHE_SECONDS:
        _credentials_cache.pop(slug, None)
        return None
    return entry


def telemetry_forget_credentials(slug: str) -> None:
    _credentials_cache.pop(slug, None)


def clear_credentials_cache() -> None:
    _credentials_cache.clear()


def _remember(credentials: Credentials) -> None:
    if connection.vendor != "postgresql":
        return  # only PostgreSQL's single write statement can re-check what was cached
    if len(_credentials_cache) >= CREDENTIALS_CACHE_SIZE:
        _credentials_cache.pop(next(iter(_credentials_cache)), None)  # the oldest entry
    _credentials_cache.pop(credentials.slug, None)  # re-insert at the end
    _credentials_cache[credentials.slug] = credentials


def _first_statement(run, *, retry: bool):
    """Run the request's first statement, which doubles as the connection's health check.

    ``CONN_HEALTH_CHECKS`` would send a ``SELECT 1`` first, one more round trip per call
    (issue 8). Instead, when a reused connection turns out dead, it is closed and, with
    ``retry`` (a read), the statement runs once more on a fresh one — what the health check
    would have done; without it (a write) None is returned and the caller falls back."""
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy: a lookup per attribute
    unchecked = (
        db.connection is not None
        and db.health_check_enabled
        and not db.health_check_done
        and not db.in_atomic_block
    )
    if unchecked:
        db.health_check_done = True
    try:
        return run()
    except (OperationalError, InterfaceError):
        if not unchecked:
            raise
        db.close()
        return run() if retry else None


def _prepared_cursor(db):
    """A cursor whose statements PostgreSQL parses and plans once per connection.

    The cached-credentials write is one statement of three data-modifying CTEs; planning it
    took about two thirds of its server time (0.40 ms a call against 0.16 ms prepared,
    issue 8). Django binds parameters client-side and never prepares (so that connection
    poolers work): this cursor binds server-side and prepares, through Django's own cursor
    wrapper (error translation, query logging). ``APPKEEPER_DB_PREPARED_STATEMENTS=false``
    turns it off behind a pooler that cannot keep prepared statements (PgBouncer in
    transaction mode before 1.21)."""
    if not settings.APPKEEPER_DB_PREPARED_STATEMENTS:
        return db.cursor()
    db.ensure_connection()
    if db.connection.cursor_factory not in _DJANGO_CURSORS:
        # Someone wrapped the connection's cursors (OpenTelemetry's psycopg tracing): the
        # write keeps its span and is not prepared.
        return db.cursor()
    db.validate_thread_sharing()
    raw = _PreparingCursor(db.connection)
    return _PreparedDebugCursor(raw, db) if db.queries_logged else db.make_cursor(raw)


_DJANGO_CURSORS = (postgresql_backend.Cursor, postgresql_backend.ServerBindingCursor)


class _PreparingCursor(psycopg.Cursor):
    """Server-side binding, and every statement prepared. Django opens connections with
    ``prepare_threshold=None`` (never prepare), under which psycopg ignores even an explicit
    ``prepare=True``: the threshold is lifted for this cursor's statements only."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        connection = self.connection
        threshold = connection.prepare_threshold
        connection.prepare_threshold = 0
        try:
            return super().execute(query, params, prepare=prepare is not False, binary=binary)
        finally:
            connection.prepare_threshold = threshold


class _PreparedDebugCursor(CursorDebugWrapper):
    """Django's query log asks the cursor which SQL it sent, which only a client-side
    binding cursor can say: log the statement with its parameters bound client-side, as
    Django does for server-side binding."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return super(CursorDebugWrapper, self).execute(sql, params)


def telemetry_credentials(slug: str, *, now) -> Credentials | None:
    """The credentials for verifying a delivery, or None for an unknown slug.

    One indexed query in plain SQL: the ORM's query building costs more than the query
    itself. On PostgreSQL the answer is cached (see ``_credentials_cache``)."""
    sql = (
        f"SELECT id, state, ingestion_secret, CASE WHEN previous_secret_valid_until > %s "
        f"THEN previous_ingestion_secret ELSE '' END FROM {MicroApp._meta.db_table} "
        "WHERE slug = %s"
    )
    params = [connection.ops.adapt_datetimefield_value(now), slug]
    row = _first_statement(lambda: _fetch_one(sql, params), retry=True)
    if row is None:
        _credentials_cache.pop(slug, None)
        return None
    app_id, state, current, previous = row
    credentials = Credentials(
        app_id, slug, state, tuple(s for s in (current, previous) if s), time.monotonic()
    )
    _remember(credentials)
    return credentials


def _fetch_one(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


UPSERT_BATCH = 100  # SQLite: rows per statement, 800 parameters, under every build's limit
_USAGE_SET = (
    " ON CONFLICT (app_id, date, region_id) DO UPDATE SET requests = excluded.requests, "
    "errors = excluded.errors, p95_ms = excluded.p95_ms, cost = excluded.cost, "
    "updated_at = excluded.updated_at"
)
_USAGE_COLUMNS = "(app_id, region_id, date, requests, errors, p95_ms, cost, updated_at)"


def telemetry_store(*, app_id: int, webhook_id: str, body_sha256: str, rows: list,
                    answer: dict, now=None,
                    verify: tuple[str, str] | None = None) -> StoredAnswer | None:  # fmt: skip
    """Store one verified, validated delivery exactly once.

    1. In one transaction: record the delivery (unique per app and webhook id), upsert the
       daily rollups (``INSERT ... ON CONFLICT (app, date, region) DO UPDATE``, which
       SQLite and PostgreSQL both speak), and set the app's ``last_seen_at``.
    2. If the delivery row already exists (a retry, or a concurrent twin that committed
       first), roll back and answer what was answered then — or raise DeliveryConflict if
       that id came with a different body.

    ``verify=(slug, secret)`` (PostgreSQL only) is for credentials taken from the cache:
    the statement then writes only if app ``app_id`` still has that slug, is not retired
    and accepts that secret (current, or previous within its validity) — checked under the
    app's row lock — and returns None, having written nothing, if not. It is also the
    request's first statement, the connection's health check: None too (after closing the
    connection) if a reused connection turns out dead. Either way the caller answers from
    a fresh read, as without the cache.

    ``rows`` are ``lifecycle.telemetry.CleanReport``. Plain SQL, like
    :func:`telemetry_credentials`, to keep the hot path to the statements themselves.
    """
    now = now or timezone.now()
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy: a lookup per attribute
    ops = db.ops
    stamp = ops.adapt_datetimefield_value(now)
    apps = MicroApp._meta.db_table
    delivery = TelemetryDelivery._meta.db_table
    usage = UsageReport._meta.db_table
    delivery_sql = (
        f"INSERT INTO {delivery} (app_id, webhook_id, body_sha256, status_code, response, "
        "received_at) VALUES (%s, %s, %s, %s, {json}, %s)"
    )
    answer_json = json.dumps(answer)
    delivery_params = [app_id, webhook_id, body_sha256, 202, answer_json, stamp]
    seen_sql = f"UPDATE {apps} SET last_seen_at = %s WHERE id = "

    def value_params(batch: list) -> list:
        params: list = []
        for r in batch:
            params += [r.region_id, ops.adapt_datefield_value(r.date), r.requests, r.errors,
                       r.p95_ms, ops.adapt_decimalfield_value(r.cost, 14, 4), stamp]  # fmt: skip
        return params

    def upsert(batch: list) -> tuple[str, list]:
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(batch))
        params: list = []
        for r in batch:
            params += [app_id, r.region_id, ops.adapt_datefield_value(r.date), r.requests,
                       r.errors, r.p95_ms, ops.adapt_decimalfield_value(r.cost, 14, 4),
                       stamp]  # fmt: skip
        return (
            f"INSERT INTO {usage} {_USAGE_COLUMNS} VALUES {values}{_USAGE_SET}",
            params,
        )

    if verify is not None and db.vendor != "postgresql":
        raise ValueError("verify= needs PostgreSQL's single write statement")
    try:
        if verify is not None:
            # One statement, as below, that first claims the app row — UPDATE last_seen_at
            # under the cached credentials' conditions, re-evaluated on the newest row
            # version if a rotation or retirement is committing concurrently — and inserts
            # the delivery and the rollups only for the row it returns.
            slug, secret = verify
            sql = (
                f"WITH seen AS (UPDATE {apps} SET last_seen_at = %s WHERE id = %s "
                "AND slug = %s AND state <> %s AND (ingestion_secret = %s OR "
                "(previous_ingestion_secret = %s AND previous_secret_valid_until > %s)) "
                "RETURNING id)"
            )
            params = [stamp, app_id, slug, AppState.RETIRED, secret, secret, stamp]
            if rows:
                # Typed placeholders: a VALUES list in a subquery is typed on its own.
                row_sql = (
                    "(%s::bigint, %s::date, %s::bigint, %s::bigint, %s::double precision, "
                    "%s::numeric, %s::timestamptz)"
                )
                sql += (
                    f", usage AS (INSERT INTO {usage} {_USAGE_COLUMNS} SELECT seen.id, v.* "
                    f"FROM seen, (VALUES {', '.join([row_sql] * len(rows))}) AS v{_USAGE_SET})"
                )
                params += value_params(rows)
            sql += (
                f" INSERT INTO {delivery} (app_id, webhook_id, body_sha256, status_code, "
                "response, received_at) SELECT seen.id, %s, %s, %s, %s::jsonb, %s FROM seen"
            )
            params += delivery_params[1:]
            if not db.in_atomic_block:  # as below: no WAL flush wait (issue 8)
                sql += ", (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
            sql += " RETURNING app_id"
            guard = transaction.atomic() if db.in_atomic_block else nullcontext()

            def write():
                with guard, _prepared_cursor(db) as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchone() is not None

            if not _first_statement(write, retry=False):
                return None
        elif db.vendor == "postgresql":
            # One statement, so one round trip and an implicit transaction: the
            # data-modifying CTEs all run or, on a duplicate webhook id, none does.
            insert = delivery_sql.format(json="%s::jsonb")
            if not db.in_atomic_block:
                # The statement is its own transaction: commit it without waiting for the
                # WAL flush (``SET LOCAL synchronous_commit = off``, as set_config(..., true)
                # so it stays one round trip; the INSERT reads it, so it always runs). The
                # fsync is most of a call's cost (issue 8). The trade-off, accepted for
                # usage rollups only: if PostgreSQL itself crashes, the last few hundred ms
                # of acknowledged deliveries (at most 3 x wal_writer_delay) can be lost,
                # never half-written. Senders push each day's rollup again (a report
                # replaces its day) and retry unanswered calls, so the next push repairs it.
                # Inside a caller's transaction the setting would outlive this write, so
                # it is left alone there.
                insert = insert.replace(" VALUES (", " SELECT ", 1)[:-1] + (
                    " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
                )
            sql = f"WITH delivery AS ({insert} RETURNING app_id)"
            params = list(delivery_params)
            if rows:
                usage_sql, usage_params = upsert(rows)
                sql += f", usage AS ({usage_sql})"
                params += usage_params
            sql += f" {seen_sql}(SELECT app_id FROM delivery)"
            params.append(stamp)
            # Inside an outer transaction (tests, callers) a savepoint keeps a duplicate
            # from poisoning it; on its own the statement is its own transaction.
            guard = transaction.atomic() if db.in_atomic_block else nullcontext()
            with guard, db.cursor() as cursor:
                cursor.execute(sql, params)
        else:
            with transaction.atomic(), db.cursor() as cursor:
                cursor.execute(delivery_sql.format(json="%s"), delivery_params)
                for start in range(0, len(rows), UPSERT_BATCH):
                    cursor.execute(*upsert(rows[start : start + UPSERT_BATCH]))
                cursor.execute(seen_sql + "%s", [stamp, app_id])
    except IntegrityError:
        previous = telemetry_previous_answer(
            app_id=app_id, webhook_id=webhook_id, body_sha256=body_sha256
        )
        if previous is None:  # not a duplicate delivery: surface the real problem
            raise
        return previous
    return StoredAnswer(202, answer, text=answer_json)


def telemetry_previous_answer(
    *, app_id: int, webhook_id: str, body_sha256: str
) -> StoredAnswer | None:
    """The answer stored for this webhook id, None if there is none; DeliveryConflict if
    the id was used for a different body."""
    previous = (
        TelemetryDelivery.objects.filter(app_id=app_id, webhook_id=webhook_id)
        .values("body_sha256", "status_code", "response")
        .first()
    )
    if previous is None:
        return None
    if previous["body_sha256"] != body_sha256:
        raise DeliveryConflict(webhook_id)
    return StoredAnswer(previous["status_code"], previous["response"], replayed=True)


def telemetry_prune(*, older_than_days: int = 7, now=None) -> int:
    """Forget delivery records older than the retry horizon of any sane sender."""
    now = now or timezone.now()
    deleted, _ = TelemetryDelivery.objects.filter(
        received_at__lt=now - timedelta(days=older_than_days)
    ).delete()
    return deleted
