"""Chargeback: usage cost summed by the database per team, cost centre, region, runtime,
app or environment, for a month, a quarter or a date range.

Money never passes through a float: costs are summed by the database as decimals and
divided in Python with ``Decimal``. Access is decided here too, so the API and the page
cannot disagree: finance and the platform team see every team, an owner only their teams.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from catalog import permissions
from catalog.choices import Environment
from catalog.models import MicroApp, Region, Team
from lifecycle.models import UsageReport
from scorecards.choices import GroupKey
from scorecards.exports import csv_text
from scorecards.periods import Period, shift

# Group key → the usage report field it reads.
GROUP_FIELDS: dict[str, str] = {
    GroupKey.TEAM: "app__team__slug",
    GroupKey.COST_CENTER: "app__team__cost_center",
    GroupKey.REGION: "region__code",
    GroupKey.RUNTIME: "app__runtime",
    GroupKey.APP: "app__slug",
    GroupKey.ENVIRONMENT: "app__environment",
}
# Keys that are attributes of the app: every app falls in exactly one group, so the
# distinct apps of the whole report are the sum of the groups' distinct apps. A region is
# per report row, not per app (an app runs in several), so the total needs its own count.
PER_APP_KEYS = frozenset(k for k, field in GROUP_FIELDS.items() if field.startswith("app__"))
MAX_GROUP_KEYS = 2
COST_PLACES = Decimal("0.0001")
ZERO = Decimal("0")


class GroupByError(ValueError):
    """A group_by that names unknown keys, repeats one or names more than two."""


def parse_group_by(values: Iterable[str] | str | None) -> list[str]:
    """``team`` or ``team,region`` (or the parameter repeated) → a list of one or two keys.

    ``None`` means the default (team); an empty value is an error, as is a third key."""
    valid = ", ".join(GroupKey.values)
    if values is None:
        return [GroupKey.TEAM.value]
    if isinstance(values, str):
        values = [values]
    keys = [k.strip() for v in values for k in v.split(",")]
    if not keys or any(not k for k in keys):
        raise GroupByError(f"group_by must name one or two of: {valid}.")
    unknown = [k for k in keys if k not in GROUP_FIELDS]
    if unknown:
        raise GroupByError(f"Unknown group_by {', '.join(unknown)}; use one or two of: {valid}.")
    if len(keys) > MAX_GROUP_KEYS:
        raise GroupByError(f"group_by takes at most two keys of: {valid}.")
    return list(dict.fromkeys(keys))  # "team,team" is just "team"


CHARGEBACK_DENIED = "Chargeback reports are for finance, the platform team and owners."


@dataclass(frozen=True)
class Scope:
    """Which teams' costs a user may see: ``None`` means all of them."""

    team_ids: frozenset[int] | None

    def apply(self, rows: QuerySet) -> QuerySet:
        if self.team_ids is None:
            return rows
        return rows.filter(app__team_id__in=self.team_ids)


def scope_for(user, teams: Sequence[str] = ()) -> Scope:
    """The user's chargeback scope, narrowed to ``teams`` (slugs) if given.

    Raises PermissionDenied for users without chargeback access and for owners asking
    for a team that is not theirs; unknown team slugs are a PermissionDenied for owners
    too, so the answer does not reveal which teams exist."""
    if not permissions.can_see_chargeback(user):
        raise PermissionDenied(CHARGEBACK_DENIED)
    allowed = permissions.chargeback_teams(user)
    if not teams:
        return Scope(allowed)
    wanted = dict(Team.objects.filter(slug__in=list(teams)).values_list("slug", "pk"))
    if allowed is not None:
        foreign = [slug for slug in teams if wanted.get(slug) not in allowed]
        if foreign:
            raise PermissionDenied(
                f"You can only see the chargeback of your own teams, not {', '.join(foreign)}."
            )
    return Scope(frozenset(wanted.values()))


def cost_per_1k(cost: Decimal, requests: int) -> Decimal | None:
    if not requests:
        return None
    return (cost * 1000 / requests).quantize(COST_PLACES, rounding=ROUND_HALF_UP)


def _numbers(requests: int | None, errors: int | None, cost: Decimal | None, apps: int) -> dict:
    requests = requests or 0
    cost = (cost or ZERO).quantize(COST_PLACES)
    return {
        "requests": requests,
        "errors": errors or 0,
        "cost": cost,
        "cost_per_1k_requests": cost_per_1k(cost, requests),
        "apps": apps,
    }


AGGREGATES = {
    "total_requests": Sum("requests"),
    "total_errors": Sum("errors"),
    "total_cost": Sum("cost"),
    "app_count": Count("app", distinct=True),
}


def usage_in(period: Period, scope: Scope) -> QuerySet:
    return scope.apply(UsageReport.objects.filter(date__gte=period.start, date__lt=period.end))


@dataclass(frozen=True)
class Report:
    period: Period
    group_by: list[str]
    rows: list[dict]
    totals: dict
    currency: str


def chargeback_report(*, period: Period, group_by: Sequence[str], scope: Scope) -> Report:
    """Rows per group from one grouped query; the totals are summed from those rows.

    The sums are exact: integers and ``Decimal`` costs (each group's cost is already at
    the 4 places of the column, so the total is the sum of the costs shown on the rows).
    Only the distinct-app total cannot always be derived: when a region is among the keys
    an app can sit in several groups, and one more query counts the distinct apps."""
    fields = [GROUP_FIELDS[k] for k in group_by]
    usage = usage_in(period, scope)
    grouped = usage.values(*fields).annotate(**AGGREGATES).order_by(*fields)
    rows = []
    requests = errors = apps = 0
    cost = ZERO
    for r in grouped:
        keys = {
            key: r[f] if r[f] is not None else "" for key, f in zip(group_by, fields, strict=True)
        }
        numbers = _numbers(r["total_requests"], r["total_errors"], r["total_cost"], r["app_count"])
        rows.append({**keys, **numbers})
        requests += numbers["requests"]
        errors += numbers["errors"]
        cost += numbers["cost"]
        apps += numbers["apps"]
    if rows and not PER_APP_KEYS.issuperset(group_by):
        apps = usage.aggregate(n=Count("app", distinct=True))["n"]
    totals = _numbers(requests, errors, cost, apps)
    return Report(period, list(group_by), rows, totals, settings.APPKEEPER_CURRENCY)


def monthly_cost_by_team(*, period: Period, scope: Scope, today: date | None = None) -> dict:
    """Cost per team per calendar month for the month-over-month view. One grouped query.

    Only complete months are compared: a month still running (or not started) would show
    a fall towards -100 % for every team. The columns run from the month before the period
    to its last complete month; ``compared`` names the two months the change is between
    (None while the period has no complete month), ``incomplete`` the period's months left
    out. ``total`` per team is the cost of the whole period, complete or not."""
    today = today or timezone.localdate()
    months = period.months()
    complete = [m for m in months if m.end <= today]
    incomplete = [m.label for m in months if m.end > today]
    first = shift(months[0], -1)
    span = Period("range", "", first.start, months[-1].end)
    rows = (
        usage_in(span, scope)
        .annotate(month=TruncMonth("date"))
        .values("app__team__slug", "app__team__name", "month")
        .annotate(total_cost=Sum("cost"))
        .order_by("app__team__name", "month")
    )
    labels = [first.label, *(m.label for m in complete)]
    in_period = {m.label for m in months}
    teams: dict[str, dict] = {}
    for r in rows:
        month_label = f"{r['month']:%Y-%m}"
        team = teams.setdefault(
            r["app__team__slug"],
            {"team": r["app__team__slug"], "name": r["app__team__name"], "costs": {}},
        )
        team["costs"][month_label] = (r["total_cost"] or ZERO).quantize(COST_PLACES)
    for team in teams.values():
        series = [team["costs"].get(label, ZERO) for label in labels]
        team["series"] = series
        team["total"] = sum(
            (cost for label, cost in team["costs"].items() if label in in_period), ZERO
        )
        team["change"] = team["change_pct"] = None
        if len(series) < 2:
            continue
        before, last = series[-2], series[-1]
        team["change"] = (last - before).quantize(COST_PLACES)
        team["change_pct"] = (
            ((last - before) * 100 / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            if before
            else None
        )
    return {
        "months": labels,
        "teams": list(teams.values()),
        "compared": (labels[-2], labels[-1]) if len(labels) > 1 else None,
        "incomplete": incomplete,
    }


def report_csv(report: Report) -> str:
    """The invoice-ready CSV: a header row, one row per group, then a TOTAL row."""
    header = [
        *report.group_by,
        "requests",
        "errors",
        "cost",
        "cost_per_1k_requests",
        "apps",
        "currency",
        "period_start",
        "period_end",
    ]
    start, end = report.period.start.isoformat(), report.period.last.isoformat()

    def line(keys: list[str], numbers: dict) -> list:
        cpk = numbers["cost_per_1k_requests"]
        return [
            *keys,
            numbers["requests"],
            numbers["errors"],
            f"{numbers['cost']:.4f}",
            f"{cpk:.4f}" if cpk is not None else "",
            numbers["apps"],
            report.currency,
            start,
            end,
        ]

    rows = [line([r[k] for k in report.group_by], r) for r in report.rows]
    rows.append(line(["TOTAL"] + [""] * (len(report.group_by) - 1), report.totals))
    return csv_text(header, rows)


NOT_SET = "Not set"


def group_labels(
    keys: Sequence[str], rows: Sequence[dict]
) -> dict[str, dict[str, tuple[str, str]]]:
    """For the page: each group value's name and its secondary text (the slug or code), per
    key; at most one query per key, whatever the number of rows. The CSV and the API keep
    the raw values, which finance reconciles against other systems."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for key in keys:
        values = {row[key] for row in rows if row[key]}
        names: dict[str, tuple[str, str]] = {}
        if key == GroupKey.TEAM:
            teams = Team.objects.filter(slug__in=values).values_list("slug", "name")
            names = {slug: (name, slug) for slug, name in teams}
        elif key == GroupKey.COST_CENTER:
            teams_of: dict[str, list[str]] = {}
            pairs = Team.objects.filter(cost_center__in=values).order_by("name")
            for centre, name in pairs.values_list("cost_center", "name"):
                teams_of.setdefault(centre, []).append(name)
            names = {centre: (centre, ", ".join(teams_of.get(centre, []))) for centre in values}
        elif key == GroupKey.REGION:
            regions = Region.objects.filter(code__in=values).values_list("code", "name")
            names = {code: (name, code) for code, name in regions}
        elif key == GroupKey.APP:
            apps = MicroApp.objects.filter(slug__in=values).values_list("slug", "name")
            names = {slug: (name, slug) for slug, name in apps}
        elif key == GroupKey.ENVIRONMENT:
            labels = dict(Environment.choices)
            names = {value: (labels.get(value, value), "") for value in values}
        names[""] = (NOT_SET, "")
        out[key] = {value: names.get(value, (value, "")) for value in values | {""}}
    return out
