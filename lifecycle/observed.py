"""Observed calls against declared dependencies: what an app calls without declaring it,
and what it declares without calling it.

Selectors (they never write), asked alike by the app page's panel, the policy rule, the
cleanup report and the declare action. Two queries for one app or a whole fleet.

"Declares it but has not called it" needs evidence of absence, so it is said only of an
app that reports its calls: one with a call reported in the window, whose first reported
call is at least a whole window old. An app that never sends ``calls`` (or only empty
lists) is never told its dependencies look unused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from catalog.choices import AppState
from catalog.impact import IMPACT_STATES
from catalog.models import Dependency, MicroApp
from lifecycle.models import ObservedCall


def window_days() -> int:
    return settings.APPKEEPER_OBSERVED_CALLS_DAYS


@dataclass(frozen=True)
class ObservedEdge:
    """Calls from the app to one other app in the window."""

    callee_id: int
    slug: str
    name: str
    requests: int
    errors: int
    last_called: date | None
    declared: bool

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests * 100 if self.requests else None


@dataclass(frozen=True)
class UnusedDependency:
    """A declared dependency with no call in the window."""

    callee_id: int
    slug: str
    name: str
    # The last call seen in the two windows the comparison looks back over, if any.
    last_called: date | None


@dataclass
class CallComparison:
    app_id: int
    window_start: date
    watched_since: date | None = None  # the first reported call in the look-back
    reports_calls: bool = False  # a call reported inside the window
    observed: list[ObservedEdge] = field(default_factory=list)
    unused: list[UnusedDependency] = field(default_factory=list)

    @property
    def days(self) -> int:
        return window_days()

    @property
    def covers_window(self) -> bool:
        return (
            self.reports_calls
            and self.watched_since is not None
            and self.watched_since <= self.window_start
        )

    @property
    def undeclared(self) -> list[ObservedEdge]:
        return [edge for edge in self.observed if not edge.declared]

    @property
    def has_findings(self) -> bool:
        return bool(self.undeclared or self.unused)


AppSelection = QuerySet[MicroApp] | Iterable[int]


def compare_calls(*, apps: AppSelection, today: date | None = None) -> dict[int, CallComparison]:
    """The comparison for each app of ``apps`` (a queryset or ids) that reported a call in
    the look-back; other apps are absent. Two queries whatever the number of apps, one
    when none of them reported a call.

    Rows are read back two windows: enough to know whether the first reported call is
    older than the window (so silence inside it means something) and to say when an
    unused dependency was last called, without scanning a year of rows for the fleet."""
    today = today or timezone.now().date()
    days = window_days()
    start = today - timedelta(days=days - 1)
    lookback = start - timedelta(days=days)
    in_window = Q(date__gte=start)
    called = Q(requests__gt=0)
    query = (
        ObservedCall.objects.filter(caller__in=apps, date__gte=lookback, date__lte=today)
        .values("caller_id", "callee_id", "callee__slug", "callee__name", "callee__state")
        .annotate(
            first=Min("date"),
            reported_in_window=Max("date", filter=in_window),
            last_called=Max("date", filter=called),
            requests=Sum("requests", filter=in_window),
            errors=Sum("errors", filter=in_window),
        )
        .order_by()
    )
    pairs = list(query)
    if not pairs:
        return {}
    declared = (
        Dependency.objects.filter(from_microapp__in=apps, to_microapp__state__in=IMPACT_STATES)
        .values_list("from_microapp_id", "to_microapp_id", "to_microapp__slug", "to_microapp__name")
        .order_by()
    )
    out: dict[int, CallComparison] = {}
    declared_by: dict[int, dict[int, tuple[str, str]]] = {}
    for caller, callee, slug, name in declared:
        declared_by.setdefault(caller, {})[callee] = (slug, name)
    last_call: dict[tuple[int, int], date | None] = {}
    for row in pairs:
        caller, callee = row["caller_id"], row["callee_id"]
        comparison = out.setdefault(caller, CallComparison(caller, start))
        if comparison.watched_since is None or row["first"] < comparison.watched_since:
            comparison.watched_since = row["first"]
        if row["reported_in_window"] is not None:
            comparison.reports_calls = True
        last_call[(caller, callee)] = row["last_called"]
        if row["requests"] and row["callee__state"] in IMPACT_STATES:
            comparison.observed.append(
                ObservedEdge(
                    callee_id=callee,
                    slug=row["callee__slug"],
                    name=row["callee__name"],
                    requests=int(row["requests"]),
                    errors=int(row["errors"] or 0),
                    last_called=row["last_called"],
                    declared=callee in declared_by.get(caller, {}),
                )
            )
    for caller, providers in declared_by.items():
        watched = out.get(caller)
        if watched is None or not watched.covers_window:
            continue
        called_now = {edge.callee_id for edge in watched.observed}
        for callee, (slug, name) in providers.items():
            if callee not in called_now:
                watched.unused.append(
                    UnusedDependency(callee, slug, name, last_call.get((caller, callee)))
                )
    for comparison in out.values():
        comparison.observed.sort(key=lambda e: (-e.requests, e.slug))
        comparison.unused.sort(key=lambda u: u.slug)
    return out


def compare_app_calls(*, app: MicroApp, today: date | None = None) -> CallComparison:
    """The comparison for one app (two queries)."""
    found = compare_calls(apps=[app.pk], today=today)
    return found.get(app.pk) or CallComparison(
        app.pk, (today or timezone.now().date()) - timedelta(days=window_days() - 1)
    )


def observed_edges(*, today: date | None = None) -> list[tuple[int, int]]:
    """(caller, callee) pairs with calls in the window between apps that are not retired
    (one query), for the fleet's dependency picture."""
    today = today or timezone.now().date()
    start = today - timedelta(days=window_days() - 1)
    return list(
        ObservedCall.objects.filter(date__gte=start, date__lte=today, requests__gt=0)
        .exclude(caller__state=AppState.RETIRED)
        .exclude(callee__state=AppState.RETIRED)
        .values_list("caller_id", "callee_id")
        .distinct()
        .order_by("caller_id", "callee_id")
    )
