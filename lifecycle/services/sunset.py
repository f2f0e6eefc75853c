"""Sunset cases: opening them for low usage or expiry, answers, decisions, and closing them."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import (
    transaction,
)
from django.db.models import Q
from django.utils import timezone

from catalog.choices import AppState, Criticality
from catalog.models import AuditEvent, MicroApp, Notification
from catalog.notifications import (
    notify_owners,
    notify_platform_team,
    owner_notifications,
    platform_team,
    platform_team_notifications,
    queue,
)
from catalog.querysets import co_owner_ids_subquery
from catalog.retirement import (
    confirmed_data,
    live_dependents_by_provider,
    require_confirmation,
    tell_dependents_of_retirement,
)
from core.types import SignedInUser
from lifecycle.choices import (
    NoticeKind,
    SunsetDecision,
    SunsetOutcome,
    SunsetReason,
    SunsetResponse,
)
from lifecycle.models import SunsetCase
from lifecycle.selectors import USAGE_WINDOW_DAYS, low_usage_candidates
from lifecycle.services.common import (
    SunsetCaseError,
    check_justification,
    lock_rows,
    send_soon,
    when,
)
from lifecycle.services.dependents import dependent_sunset_notices, escalation_notices


def open_cases_for(
    apps: list[MicroApp],
    *,
    reason: str,
    now: datetime,
    figures: Callable[[MicroApp], dict[str, Any]],
) -> int:
    """Move locked apps to ``sunsetting`` with an open case each, audit and notify.
    Runs inside the caller's transaction; returns how many cases were opened."""
    grace_end = now + timedelta(days=settings.APPKEEPER_SUNSET_RESPONSE_DAYS)
    label = SunsetReason(reason).label.lower()
    apps = MicroApp.transition_many(
        apps,
        action="sunset_started",
        comment=f"Sunset case opened: {label}.",
        data_for=figures,
        now=now,
    )
    cases = [
        SunsetCase(
            app=app, reason=reason, opened_at=now, grace_ends_at=grace_end, figures=figures(app)
        )
        for app in apps
    ]
    # The partial unique index (one open case per app) is the last line of defence.
    SunsetCase.objects.bulk_create(cases, ignore_conflicts=True)  # one INSERT (see queue)
    notes = []
    critical = [app for app in apps if app.criticality == Criticality.CRITICAL]
    members = platform_team() if critical else []
    for app in critical:
        notes += platform_team_notifications(
            members=members,
            kind=NoticeKind.SUNSET_NOTICE,
            subject=f"Sunset of critical app {app.name}: your decision",
            body=(
                f"A {label} sunset case was opened for {app.name}, which is critical: it is "
                "never retired because nobody answered. Decide the case (uphold or retire) "
                "once its owner has answered or the time to answer has passed."
            ),
            dedupe_key=f"sunset:{app.pk}:{reason}:{now:%Y%m%d}:platform",
            app=app,
            link=app.get_absolute_url() + "#lifecycle",
        )
    called = live_dependents_by_provider(app.pk for app in apps)
    for app in apps:
        facts = figures(app)
        if reason == SunsetReason.LOW_USAGE:
            why = (
                f"{app.name} served {facts['requests']:,} requests in the last "
                f"{facts['days']} days ({facts['errors']:,} errors, cost {facts['cost']} "
                f"{settings.APPKEEPER_CURRENCY}); the threshold is {facts['threshold']:,}."
            )
        elif reason == SunsetReason.BACKSTAGE_REMOVED:
            why = facts["why"]
        else:
            # The expiry job selects these apps by their expiry date, so they have one.
            assert app.expires_at is not None
            why = (
                f"{app.name} expired on {when(app.expires_at)} and was not renewed within "
                f"the {settings.APPKEEPER_GRACE_DAYS}-day grace period. Renewing it now "
                "brings it back."
            )
        dependents = called.get(app.pk, [])
        if app.criticality == Criticality.CRITICAL:
            subject = f"{app.name} may be retired: answer by {grace_end:%d %b %Y}"
            unanswered = (
                "It is critical, so it is not retired without an answer: the platform team "
                "decides the case."
            )
        elif dependents:
            subject = f"{app.name} may be retired: answer by {grace_end:%d %b %Y}"
            unanswered = (
                f"Live apps call it ({', '.join(d.name for d in dependents)}), so it is not "
                "retired without an answer: the platform team decides the case. Their owners "
                "have been told."
            )
        else:
            subject = f"{app.name} will be retired on {grace_end:%d %b %Y}"
            unanswered = "Without an answer the app is retired then; its data and history are kept."
        notes += owner_notifications(
            app=app,
            kind=NoticeKind.SUNSET_NOTICE,
            subject=subject,
            body=(
                f"{why}\n\nAccept the retirement, or contest it with a justification before "
                f"{when(grace_end)}. {unanswered}"
            ),
            dedupe_key=f"sunset:{app.pk}:{reason}:{now:%Y%m%d}",
            link=app.get_absolute_url() + "#lifecycle",
        )
        if dependents:
            notes += dependent_sunset_notices(
                provider=app,
                dependents=dependents,
                grace_end=grace_end,
                why=f"A {label} sunset case was opened for {app.name}. {why}",
                dedupe_key=f"sunset:{app.pk}:{reason}:{now:%Y%m%d}:dependents",
            )
    queue(notes)
    return len(apps)


# --- usage sunsetting ----------------------------------------------------------------------


def sunset_cases_open(*, now: datetime | None = None) -> int:
    """Open a low-usage sunset case for each app that qualifies; returns how many.

    1. Compute the candidates and their figures in one aggregate query
       (``selectors.low_usage_candidates``).
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

    def figures(app: MicroApp) -> dict[str, Any]:
        row = facts[app.pk]
        return {
            "requests": int(row["recent_requests"] or 0),
            "errors": int(row["recent_errors"] or 0),
            "cost": str(Decimal(row["recent_cost"] or 0).quantize(Decimal("0.01"))),
            "threshold": settings.APPKEEPER_SUNSET_MIN_REQUESTS,
            "days": USAGE_WINDOW_DAYS,
        }

    with transaction.atomic():
        apps = lock_rows(MicroApp.objects.filter(pk__in=list(facts), state=AppState.ACTIVE))
        if not apps:
            return 0
        return open_cases_for(apps, reason=SunsetReason.LOW_USAGE, now=now, figures=figures)


def sunset_cases_close(*, now: datetime | None = None) -> int:
    """Retire the apps whose sunset case went unanswered; returns how many were retired.

    1. Lock the open cases past their grace end that nobody contested and nobody
       escalated, plus any open case whose app already left ``sunsetting`` some other
       way (stale).
    2. Ask, in one query, which of the apps still sunsetting live apps call: those are
       not retired. Their cases are escalated to the platform team (``escalated_at``,
       an audit event, one notice per member listing the dependents, and a word to the
       owner) and wait for its decision, like a critical app's.
    3. Retire the other apps still sunsetting (bulk update with ``retired_at`` and a
       reason, bulk audit events); close their cases and the stale ones with their
       outcome, and tell the owners. Contested cases, and unanswered cases of critical
       apps, wait for the platform team's decision.
    """
    now = now or timezone.now()
    with transaction.atomic():
        cases = list(
            SunsetCase.objects.open()
            .filter(
                # A critical app's unanswered case waits for the platform team's decision,
                # and so does one already escalated because apps depend on it.
                Q(grace_ends_at__lte=now, response="", escalated_at__isnull=True)
                & ~Q(app__criticality=Criticality.CRITICAL)
                | ~Q(app__state=AppState.SUNSETTING)
            )
            # The apps too: retiring one whose owner is renewing it right now would undo the
            # renewal; skipped now, the case is closed by the renewal or by the next run.
            .select_for_update(skip_locked=True, of=("self", "app"))
            .select_related("app", "app__owner", "app__team")
            .annotate(app_co_owner_ids=co_owner_ids_subquery("app_id"))
            .order_by("pk")
        )
        if not cases:
            return 0
        for case in cases:  # the co-owners to tell, read with the cases
            case.app.co_owner_ids_json = case.app_co_owner_ids
        sunsetting = [c for c in cases if c.app.state == AppState.SUNSETTING]
        called = _still_called(
            {c.app_id for c in sunsetting},
            live_dependents_by_provider(c.app_id for c in sunsetting),
        )
        escalating = [c for c in sunsetting if c.app_id in called]
        retiring = [c for c in sunsetting if c.app_id not in called]
        notes = _escalate(escalating, called, now) if escalating else []
        cases = [c for c in cases if c.app_id not in called]
        case_of = {c.app_id: c.pk for c in retiring}
        reason = "No answer to the sunset notice by the end of its grace period."
        MicroApp.transition_many(
            [c.app for c in retiring],
            action="retired",
            comment=reason,
            values={"retired_at": now, "retired_reason": reason},
            data_for=lambda app: {"sunset_case": case_of[app.pk]},
            now=now,
        )
        for case in cases:
            case.closed_at = now
            case.outcome = (
                SunsetOutcome.RETIRED
                if case in retiring or case.app.state == AppState.RETIRED
                else SunsetOutcome.WITHDRAWN
            )
        if cases:
            SunsetCase.objects.bulk_update(cases, ["closed_at", "outcome"], batch_size=500)
        for case in retiring:
            notes += owner_notifications(
                app=case.app,
                kind=NoticeKind.SUNSET_CLOSED,
                subject=f"{case.app.name} has been retired",
                body=(
                    f"Sunset case #{case.pk} for {case.app.name} got no answer by "
                    f"{when(case.grace_ends_at)}, so the app is retired. Its contracts, "
                    "usage and history are kept and stay searchable."
                ),
                dedupe_key=f"sunset-case:{case.pk}:closed",
                link=case.app.get_absolute_url(),
            )
        queue(notes)
    return len(retiring)


def _still_called(
    candidates: set[int], called: dict[int, list[MicroApp]]
) -> dict[int, list[MicroApp]]:
    """Of the ``candidates`` to retire, those a live app would still call once the others
    are retired, with those apps: an app called only by apps retired in the same run goes
    with them (a chain of unanswered cases is retired whole)."""
    retiring = set(candidates)
    while True:
        held = {pk for pk in retiring if any(d.pk not in retiring for d in called.get(pk, ()))}
        if not held:
            break
        retiring -= held
    return {pk: [d for d in called[pk] if d.pk not in retiring] for pk in candidates - retiring}


def _escalate(
    cases: list[SunsetCase], called: dict[int, list[MicroApp]], now: datetime
) -> list[Notification]:
    """Hand unanswered cases of apps others call to the platform team: mark them, audit
    it, and return the notices (the platform team's, listing the dependents, and the
    owner's). A fixed number of queries for any number of cases."""
    SunsetCase.objects.filter(pk__in=[c.pk for c in cases]).update(escalated_at=now)
    AuditEvent.objects.bulk_create(
        AuditEvent.build(
            app=case.app,
            actor=None,
            action="sunset_escalated",
            comment=(
                "No answer by the end of the grace period, but live apps call it: the "
                "platform team decides."
            ),
            data={"sunset_case": case.pk, "dependents": [d.slug for d in called[case.app_id]]},
        )
        for case in cases
    )
    members = platform_team()
    notes: list[Notification] = []
    for case in cases:
        case.escalated_at = now
        dependents = called[case.app_id]
        notes += escalation_notices(
            members=members, case_pk=case.pk, provider=case.app, dependents=dependents
        )
        notes += owner_notifications(
            app=case.app,
            kind=NoticeKind.SUNSET_ESCALATED,
            subject=f"{case.app.name} was not retired: the platform team decides",
            body=(
                f"Sunset case #{case.pk} for {case.app.name} got no answer by "
                f"{when(case.grace_ends_at)}. Live apps still call it "
                f"({', '.join(d.name for d in dependents)}), so it was not retired: the "
                "platform team decides whether it stays or goes."
            ),
            dedupe_key=f"sunset-case:{case.pk}:escalated",
            link=case.app.get_absolute_url() + "#lifecycle",
        )
    return notes


def _locked_case(case: SunsetCase) -> tuple[SunsetCase, MicroApp]:
    """Lock the app first, then the case: the same order as renewals, so no deadlocks."""
    app = (
        MicroApp.objects.select_for_update(of=("self",))
        .select_related("owner", "team")
        .get(pk=case.app_id)
    )
    case = SunsetCase.objects.select_for_update().get(pk=case.pk)
    case.app = app
    return case, app


@transaction.atomic
def sunset_respond(
    *,
    case: SunsetCase,
    actor: SignedInUser,
    response: str,
    justification: str = "",
    confirm_dependents: Collection[str] = (),
    now: datetime | None = None,
) -> SunsetCase:
    """The owner's answer to a sunset case, within its grace period.

    ``accept`` retires the app at once; while live apps call it, ``confirm_dependents``
    must name each of them (``DependentsNotConfirmed`` otherwise). ``contest`` (with a
    justification of at least 20 characters) hands the case to the platform team, who
    decide it; until then the daily job leaves it alone.
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
            f"The time to answer ended on {when(case.grace_ends_at)}.",
            code="invalid_transition",
        )
    if response == SunsetResponse.CONTEST:
        justification = check_justification(justification)
    case.response = response
    case.justification = justification.strip()
    case.responded_by = actor
    case.responded_at = now
    fields = ["response", "justification", "responded_by", "responded_at"]
    if response == SunsetResponse.ACCEPT:
        dependents = require_confirmation(app, confirm_dependents)
        app.retire(
            by=actor,
            reason=f"The owner accepted sunset case #{case.pk}.",
            data=confirmed_data(dependents),
        )
        tell_dependents_of_retirement(app, dependents)
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
    send_soon()
    return case


@transaction.atomic
def sunset_decide(
    *,
    case: SunsetCase,
    actor: SignedInUser,
    decision: str,
    comment: str = "",
    confirm_dependents: Collection[str] = (),
    now: datetime | None = None,
) -> SunsetCase:
    """The platform team's decision on a contested case, on any open case of a critical
    app, or on one escalated because live apps call the app (neither is retired
    unanswered): ``uphold`` puts the app back to ``active`` with a fresh expiry;
    ``retire`` retires it, naming each live app that calls it in ``confirm_dependents``."""
    now = now or timezone.now()
    if decision not in SunsetDecision.values:
        raise ValidationError({"decision": f"Choose one of: {', '.join(SunsetDecision.values)}."})
    case, app = _locked_case(case)
    if not case.can_decide:
        state = "closed" if not case.is_open else "not contested"
        raise SunsetCaseError(
            "Only an open case that is contested, escalated, or of a critical app, can be "
            f"decided; this one is {state}.",
            code="invalid_transition",
        )
    comment = (comment or "").strip()
    if decision == SunsetDecision.UPHOLD:
        app.activate(by=actor, comment=f"Sunset case #{case.pk} contest upheld. {comment}".strip())
        assert app.expires_at is not None  # activate() has just started the clock
        case.outcome = SunsetOutcome.REACTIVATED
        subject = f"{app.name} stays: your contest was upheld"
        body = f"{app.name} is active again until {when(app.expires_at)}."
    else:
        dependents = require_confirmation(app, confirm_dependents)
        why = "contest rejected" if case.response else "retirement decided"
        app.retire(
            by=actor,
            reason=f"Sunset case #{case.pk}: {why} by the platform team. {comment}".strip(),
            data=confirmed_data(dependents),
        )
        tell_dependents_of_retirement(app, dependents)
        case.outcome = SunsetOutcome.RETIRED
        subject = f"{app.name} is retired: your contest was not upheld"
        body = f"{app.name} has been retired. Its data and history are kept."
    case.decision = decision
    case.decision_comment = comment
    case.decided_by = actor
    case.decided_at = now
    case.closed_at = now
    decided = ["decision", "decision_comment", "decided_by", "decided_at"]
    case.save(update_fields=[*decided, "closed_at", "outcome"])
    notify_owners(
        app=app,
        kind=NoticeKind.SUNSET_CLOSED,
        subject=subject,
        body=f"{body}\n\n{comment}".strip(),
        dedupe_key=f"sunset-case:{case.pk}:decided",
        link=app.get_absolute_url() + "#lifecycle",
    )
    send_soon()
    return case
