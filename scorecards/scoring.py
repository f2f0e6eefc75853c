"""Scoring: gather each input for the whole fleet in a fixed number of grouped queries,
then score every app in Python against the rubric.

The query count does not depend on the number of apps: usage is aggregated by the
database (``values("app_id").annotate(Count/Sum)``), the latest contract is a correlated
subquery on the app query, and notices, owner actions and team memberships come back in
one query each. A period is measured as of its end (``scorecards.history``): what an app
looked like, its last heartbeat and the actions answering its notices are those before
the end, so a closed quarter scores the same whenever it is recomputed. Nothing here
writes; ``services.scorecards_compute`` stores the results.
"""

from __future__ import annotations

import re
import statistics
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from catalog.models import AuditEvent, Contract, MicroApp, Notification, Team
from core.formats import counted, day, moment
from core.resilience import cache_fails_open
from lifecycle.models import UsageReport
from scorecards.choices import Dimension
from scorecards.fixes import COST_FIX_BELOW
from scorecards.history import (
    heartbeats_before,
    retired_dependencies,
    scorable_apps,
    was_orphaned,
    wind_back,
)
from scorecards.periods import Period
from scorecards.rubric import Rubric, get_rubric

CPK_PLACES = Decimal("0.000001")
COST_PLACES = Decimal("0.0001")
FLEET_CACHE_SECONDS = 600
# The addressee part of an outbox row's dedupe key (``catalog.notifications``): what is
# left names the notice itself.
ADDRESSEE = re.compile(r":(owner|team|webhook|(co|lead):\d+|\d+)$")


@dataclass
class Usage:
    days: int = 0
    requests: int = 0
    errors: int = 0
    cost: Decimal = field(default_factory=lambda: Decimal("0"))

    @property
    def cost_per_1k(self) -> Decimal | None:
        if not self.requests:
            return None
        return (self.cost * 1000 / self.requests).quantize(CPK_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class AppScore:
    """One app's result: what ``Scorecard`` stores and the live panel shows."""

    app: MicroApp
    scores: dict[str, int]
    reasons: dict[str, list[str]]
    metrics: dict
    overall: Decimal
    grade: str


def _half_up(value: float | Decimal) -> int:
    return int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


# --- gathering: one query per input, whatever the fleet size ---------------------------------


def add_retired_dependencies(
    apps: list[MicroApp], apps_qs: QuerySet[MicroApp], at: datetime
) -> None:
    """Set ``retired_dependencies`` on each app: the retired apps it called at ``at``."""
    found = retired_dependencies(apps, apps_qs, at)
    for app in apps:
        app.retired_dependencies = found.get(app.pk, [])  # type: ignore[attr-defined]


def with_latest_contract(apps: QuerySet[MicroApp], cutoff: datetime) -> QuerySet[MicroApp]:
    """Annotate ``latest_contract_valid``: True, False, or None when there is no contract."""
    # A version scheduled to take effect after the cutoff was not the app's contract yet.
    latest = (
        Contract.objects.filter(app=OuterRef("pk"), created_at__lt=cutoff)
        .filter(Q(effective_at__isnull=True) | Q(effective_at__lt=cutoff))
        .order_by("-created_at", "-pk")
    )
    return apps.annotate(latest_contract_valid=Subquery(latest.values("is_valid")[:1]))


def usage_by_app(period: Period, apps: QuerySet[MicroApp] | None = None) -> dict[int, Usage]:
    """Days with reports, requests, errors and cost per app, aggregated by the database."""
    rows = UsageReport.objects.filter(date__gte=period.start, date__lt=period.end)
    if apps is not None:
        rows = rows.filter(app__in=apps.values("pk"))
    rows = (
        rows.values("app_id")
        .annotate(
            days=Count("date", distinct=True),
            total_requests=Sum("requests"),
            total_errors=Sum("errors"),
            total_cost=Sum("cost"),
        )
        .order_by()
    )
    return {
        r["app_id"]: Usage(
            days=r["days"],
            requests=r["total_requests"] or 0,
            errors=r["total_errors"] or 0,
            # Quantized to the column's scale: SQLite hands sums back without one.
            cost=(r["total_cost"] or Decimal("0")).quantize(COST_PLACES),
        )
        for r in rows
    }


def fleet_cost_curve(usage: Iterable[Usage]) -> list[Decimal]:
    """Sorted cost per 1k requests of every app with requests: the percentile reference."""
    return sorted(u.cost_per_1k for u in usage if u.cost_per_1k is not None)


def cached_fleet_cost_curve(period: Period, today: date) -> list[Decimal]:
    """The live fleet's curve for a period, cached briefly: app pages read it often and it
    only moves when telemetry arrives, which is daily."""
    key = f"scorecards:fleet-cpk:{period.label}:{today.isoformat()}"
    curve = None
    with cache_fails_open("scorecard_curve"):
        curve = cache.get(key)
    if curve is None:
        curve = fleet_cost_curve(usage_by_app(period, scorable_apps(period)).values())
        with cache_fails_open("scorecard_curve"):
            cache.set(key, curve, FLEET_CACHE_SECONDS)
    return curve


@dataclass
class Responses:
    """Notices per app, owner actions per app, team members and each app's co-owners: what
    responsiveness needs."""

    notices: dict[int, list[datetime]]
    actions: dict[int, list[tuple[datetime, int]]]
    members: dict[int, set[int]]
    co_owners: dict[int, set[int]] = field(default_factory=dict)


def as_of(period: Period, now: datetime) -> datetime:
    """The moment a period is measured at: its end, or now while it is still running."""
    return min(period.end_dt, now)


def gather_responses(
    apps: list[MicroApp],
    apps_qs: QuerySet[MicroApp],
    period: Period,
    now: datetime,
    kinds: Iterable[str],
) -> Responses:
    """Notices to each app's owner in the period, and the period's audit events by people.

    ``apps`` carry the owner and team they had at the period's end (``history.wind_back``):
    a notice sent to a former owner still counts for the quarter they owned the app in.
    """
    until = as_of(period, now)
    owners = {app.pk: app.owner_id for app in apps}
    notices_qs = Notification.objects.filter(
        app__in=apps_qs.values("pk"),
        kind__in=list(kinds),
        created_at__gte=period.start_dt,
        created_at__lt=until,
    )
    notices: dict[int, list[datetime]] = defaultdict(list)
    team_owned: dict[int, dict[str, datetime]] = defaultdict(dict)
    rows = notices_qs.values_list("app_id", "recipient_id", "created_at", "dedupe_key")
    for app_id, recipient_id, created_at, key in rows.order_by():
        if app_id not in owners:
            continue
        if owners[app_id] is None:
            # A team-owned app's notice reaches several stand-ins at once (co-owners, the
            # lead, the team contact, the webhook): each notice counts once, whoever read it.
            notice = ADDRESSEE.sub("", key)
            team_owned[app_id].setdefault(notice, created_at)
        elif owners[app_id] == recipient_id:
            notices[app_id].append(created_at)
    for app_id, sent in team_owned.items():
        notices[app_id] = sorted(sent.values())
    if not notices:
        return Responses({}, {}, {}, {})
    actions: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    # Only actions inside the period answer its notices: a renewal a month after the
    # quarter ended does not make the quarter's owner any quicker.
    events = AuditEvent.objects.filter(
        app__in=notices_qs.values("app_id"),
        actor__isnull=False,
        at__gte=period.start_dt,
        at__lt=period.end_dt,
        at__lte=now,
    ).values_list("app_id", "at", "actor_id")
    for app_id, at, actor_id in events.order_by("app_id", "at", "pk"):
        actions[app_id].append((at, actor_id))
    members: dict[int, set[int]] = defaultdict(set)
    teams = {app.team_id for app in apps if app.pk in notices}
    through = Team.members.through.objects.filter(team_id__in=teams)
    for team_id, user_id in through.values_list("team_id", "user_id"):
        members[team_id].add(user_id)
    # Today's co-owners: who co-owned an app when is not kept beyond the audit trail, and
    # a co-owner answering a notice is the app answering it.
    co_owners: dict[int, set[int]] = defaultdict(set)
    links = MicroApp.co_owners.through.objects.filter(microapp_id__in=list(notices))
    for app_id, user_id in links.values_list("microapp_id", "user_id"):
        co_owners[app_id].add(user_id)
    return Responses(dict(notices), dict(actions), dict(members), dict(co_owners))


# --- scoring: pure functions of the gathered inputs ------------------------------------------


def score_documentation(app: MicroApp, rubric: Rubric) -> tuple[int, list[str], dict]:
    points = {c.key: c.points for c in rubric.dimension(Dimension.DOCUMENTATION).criteria}
    score, reasons = 0, []
    # Dependency health first: an app calling a retired one is broken, not just undocumented.
    retired = getattr(app, "retired_dependencies", None) or []
    for name, retired_at in retired:
        reasons.append(
            f"dependency health: calls {name}, retired on {day(retired_at)}; remove or "
            "replace the dependency"
        )
    valid = getattr(app, "latest_contract_valid", None)
    if valid:
        score += points["valid_contract"]
    elif valid is None:
        reasons.append("no API contract")
    else:
        reasons.append("latest API contract is invalid")
    length = len((app.description or "").strip())
    if length >= rubric.description_min_chars:
        score += points["description"]
    elif length == 0:
        reasons.append("no description")
    else:
        reasons.append(
            f"description has {length} characters, fewer than {rubric.description_min_chars}"
        )
    if app.docs_url:
        score += points["docs_url"]
    else:
        reasons.append("no docs URL")
    if app.runbook_url:
        score += points["runbook_url"]
    else:
        reasons.append("no runbook URL")
    # A penalty per retired app still called (its points are negative), never below 0.
    score = max(0, score + points["live_dependencies"] * len(retired))
    metrics = {
        "contract_valid": valid,
        "description_chars": length,
        "retired_dependencies": [name for name, _ in retired],
    }
    return score, reasons, metrics


def score_telemetry(
    usage: Usage, heartbeat_at: datetime | None, days_in_period: int, at: datetime, rubric: Rubric
) -> tuple[int, list[str], dict]:
    """Coverage of the period's days, and a heartbeat within the rubric's hours before ``at``
    (the period's end, or now while it runs): ``heartbeat_at`` is the last one before it."""
    points = {c.key: c.points for c in rubric.dimension(Dimension.TELEMETRY).criteria}
    reasons = []
    days = min(usage.days, days_in_period)
    share = Decimal(days) / days_in_period if days_in_period else Decimal(0)
    score = _half_up(points["coverage"] * share)
    if days < days_in_period:
        reasons.append(f"telemetry on {days} of {days_in_period} days")
    fresh_after = at - timedelta(hours=rubric.heartbeat_hours)
    heartbeat = heartbeat_at is not None and heartbeat_at >= fresh_after
    if heartbeat:
        score += points["heartbeat"]
    elif heartbeat_at is None:
        reasons.append("no heartbeat ever received")
    else:
        reasons.append(
            f"no heartbeat in the last {rubric.heartbeat_hours} hours "
            f"(last seen {moment(heartbeat_at)})"
        )
    metrics = {
        "days_with_reports": days,
        "days_in_period": days_in_period,
        "heartbeat_fresh": heartbeat,
        "last_seen_at": heartbeat_at.isoformat() if heartbeat_at else None,
    }
    return min(score, 100), reasons, metrics


def cost_percentile(cpk: Decimal, curve: list[Decimal]) -> int:
    """Share of the other apps on the curve that cost more per 1k requests (ties half)."""
    n = len(curve)
    greater = n - bisect_right(curve, cpk)
    equal = bisect_right(curve, cpk) - bisect_left(curve, cpk)
    if cpk in curve:
        others, equal = n - 1, equal - 1
    else:  # an app scored against a fleet it is not part of
        others = n
    if others <= 0:
        return 100
    return max(0, min(100, _half_up(Decimal(100) * (greater + Decimal(equal) / 2) / others)))


def score_cost(usage: Usage, curve: list[Decimal]) -> tuple[int, list[str], dict]:
    currency = settings.APPKEEPER_CURRENCY
    cpk = usage.cost_per_1k
    metrics = {
        "requests": usage.requests,
        "errors": usage.errors,
        "cost": str(usage.cost),
        "cost_per_1k_requests": str(cpk) if cpk is not None else None,
        "fleet_size": len(curve),
    }
    if cpk is None:
        if usage.cost:
            return 0, [f"{usage.cost} {currency} of cost but no requests reported"], metrics
        return 0, ["no usage reported"], metrics
    score = cost_percentile(cpk, curve)
    reasons = []
    # Only a cost above most of the fleet's is something to fix; being cheaper than half
    # of it is a strength, however far from the cheapest.
    if score < COST_FIX_BELOW:
        reasons.append(
            f"{cpk.normalize():f} {currency} per 1k requests: "
            f"dearer than {100 - score}% of the fleet"
        )
    return score, reasons, metrics


def score_responsiveness(
    app: MicroApp, responses: Responses, at: datetime, rubric: Rubric
) -> tuple[int, list[str], dict]:
    notices = sorted(responses.notices.get(app.pk, []))
    if was_orphaned(app, at):
        # Nobody is left to answer: the lowest score, as for notices that are never answered.
        reason = "no owner: its owner left and nobody took it over; the platform team assigns one"
        metrics = {
            "notices": len(notices),
            "median_hours": None,
            "unanswered": len(notices),
            "orphaned": True,
        }
        return 0, [reason], metrics
    if not notices:
        return 100, [], {"notices": 0, "median_hours": None, "unanswered": 0}
    # A team-owned app (owner None) is answered for by its team and co-owners: any of their
    # actions answers a notice, as it does for an owned app.
    people = (
        responses.members.get(app.team_id, set())
        | responses.co_owners.get(app.pk, set())
        | ({app.owner_id} if app.owner_id is not None else set())
    )
    actions = [at for at, actor in responses.actions.get(app.pk, []) if actor in people]
    hours, unanswered = [], 0
    for sent in notices:
        index = bisect_right(actions, sent)
        if index < len(actions):
            answered = actions[index]
        else:  # still open at the period's end (or now): it counts for as long as it waited
            answered, unanswered = at, unanswered + 1
        hours.append(max(0.0, (answered - sent).total_seconds() / 3600))
    median = statistics.median(hours)
    score = rubric.responsiveness_score(median)
    reasons = []
    count = counted(len(notices), "notice")
    if score < 100:
        reasons.append(f"median response {median:.0f} hours over {count}")
    if unanswered:
        reasons.append(
            f"{unanswered} of {count} not answered yet"
            if len(notices) > 1
            else "the notice is not answered yet"
        )
    metrics = {
        "notices": len(notices),
        "median_hours": round(median, 1),
        "unanswered": unanswered,
    }
    return score, reasons, metrics


def score_app(
    app: MicroApp,
    *,
    usage: Usage,
    heartbeat_at: datetime | None,
    curve: list[Decimal],
    responses: Responses,
    days_in_period: int,
    at: datetime,
    rubric: Rubric,
) -> AppScore:
    """Score ``app`` as it stood at ``at``: the period's end, or now while it runs."""
    results = {
        Dimension.DOCUMENTATION: score_documentation(app, rubric),
        Dimension.TELEMETRY: score_telemetry(usage, heartbeat_at, days_in_period, at, rubric),
        Dimension.COST: score_cost(usage, curve),
        Dimension.RESPONSIVENESS: score_responsiveness(app, responses, at, rubric),
    }
    scores = {str(k): v[0] for k, v in results.items()}
    overall = rubric.overall(scores)
    return AppScore(
        app=app,
        scores=scores,
        reasons={str(k): v[1] for k, v in results.items()},
        metrics={str(k): v[2] for k, v in results.items()},
        overall=overall,
        grade=rubric.grade_for(overall),
    )


def days_scored(period: Period, now: datetime) -> int:
    """Days of the period up to and including today: a quarter to date counts days so far."""
    today = timezone.localdate(now)
    end = min(period.end, today + timedelta(days=1))
    return max(0, (end - period.start).days)


def score_fleet(
    period: Period,
    *,
    now: datetime | None = None,
    rubric: Rubric | None = None,
    recorded_heartbeats: Mapping[int, datetime] | None = None,
) -> tuple[list[AppScore], Rubric]:
    """Score every app live during the period as it stood at the period's end, in a fixed
    number of queries (see ``scorecards.history`` for what "as it stood" means).

    1. Read the apps live during the period with their latest contract before the end
       (one query), and wind their audited fields back to the end (one, plus one each for
       owners and teams changed since).
    2. Find each app's last heartbeat before the end (two grouped queries).
    3. Aggregate usage per app in the period (one grouped query).
    4. Read notices to owners, the period's audit events, team members and co-owners (at
       most four).
    5. Score each app in Python; cost percentiles come from the fleet's own usage.

    ``recorded_heartbeats`` are heartbeats a previous run of this period stored, which
    outlive the delivery records they were read from.
    """
    now = now or timezone.now()
    rubric = rubric or get_rubric()
    at = as_of(period, now)
    apps_qs = scorable_apps(period)
    apps = list(with_latest_contract(apps_qs, at).order_by("pk"))
    wind_back(apps, apps_qs, at)
    add_retired_dependencies(apps, apps_qs, at)
    heartbeats = heartbeats_before(apps, apps_qs, at, recorded_heartbeats)
    usage = usage_by_app(period, apps_qs)
    alive = {app.pk for app in apps}
    curve = fleet_cost_curve(u for app_id, u in usage.items() if app_id in alive)
    responses = gather_responses(apps, apps_qs, period, now, rubric.notice_kinds)
    days = days_scored(period, now)
    results = [
        score_app(
            app,
            usage=usage.get(app.pk, Usage()),
            heartbeat_at=heartbeats.get(app.pk),
            curve=curve,
            responses=responses,
            days_in_period=days,
            at=at,
            rubric=rubric,
        )
        for app in apps
    ]
    return results, rubric


def score_one(
    app: MicroApp, period: Period, *, now: datetime | None = None, rubric: Rubric | None = None
) -> AppScore:
    """The live score of one app (quarter to date on its page), against the cached fleet."""
    now = now or timezone.now()
    rubric = rubric or get_rubric()
    at = as_of(period, now)
    only = MicroApp.objects.filter(pk=app.pk)
    annotated = with_latest_contract(only, at).first() or app
    wind_back([annotated], only, at)
    add_retired_dependencies([annotated], only, at)
    heartbeat_at = heartbeats_before([annotated], only, at).get(app.pk)
    usage = usage_by_app(period, only).get(app.pk, Usage())
    curve = cached_fleet_cost_curve(period, timezone.localdate(now))
    responses = gather_responses([annotated], only, period, now, rubric.notice_kinds)
    return score_app(
        annotated,
        usage=usage,
        heartbeat_at=heartbeat_at,
        curve=curve,
        responses=responses,
        days_in_period=days_scored(period, now),
        at=at,
        rubric=rubric,
    )
