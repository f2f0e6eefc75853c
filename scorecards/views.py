"""HTML pages: scorecards (leaderboard, grades, rubric), the cleanup report, chargeback,
and the app-page panel with the live quarter-to-date score and the trend."""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from celery import current_app
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog import permissions
from catalog.choices import AppState
from catalog.models import Team
from core import charts
from core.formats import day
from core.htmx import vary_on_htmx, wants_fragment
from scorecards import chargeback as cb
from scorecards import periods
from scorecards.choices import GRADE_COLOURS, Dimension, Grade
from scorecards.cleanup import CSV_HEADER, cleanup_csv_rows, cleanup_report
from scorecards.exports import csv_text
from scorecards.filters import ScorecardFilterSet, latest_scored_quarter
from scorecards.fixes import SHORT_LABELS, SHOWN_FIXES, fixes_for
from scorecards.forms import ChargebackForm
from scorecards.models import Scorecard
from scorecards.rollups import grade_counts, team_rollups
from scorecards.rubric import get_rubric
from scorecards.scoring import score_one
from scorecards.tasks import compute_quarterly_scorecards

PAGE_SIZE = 50
TREND_QUARTERS = 8
FILTERS = ("team", "grade")
SCORING_JOB = "compute-quarterly-scorecards"  # config/celery.py's beat entry


def _quarter_from(request) -> periods.Period:
    value = request.GET.get("quarter")
    if value:
        try:
            return periods.parse_quarter(value)
        except periods.PeriodError:
            pass
    latest = latest_scored_quarter()
    return periods.parse_quarter(latest) if latest else periods.previous_quarter()


def _known_quarters(selected: str) -> list[str]:
    labels = set(Scorecard.objects.values_list("quarter", flat=True).distinct())
    labels.add(selected)
    return sorted(labels, reverse=True)


def scoring_moment(quarter: periods.Period) -> datetime | None:
    """When the beat schedule scores ``quarter``: its job's time on the day after the
    quarter; None if the deployment's schedule has no such job (the page then says so)."""
    entry = current_app.conf.beat_schedule.get(SCORING_JOB)
    schedule = entry and entry.get("schedule")
    hours, minutes = getattr(schedule, "hour", None), getattr(schedule, "minute", None)
    if not hours or not minutes:
        return None
    at = time(min(hours), min(minutes))
    return timezone.make_aware(datetime.combine(quarter.end, at), ZoneInfo(settings.TIME_ZONE))


def _band(score: int) -> str:
    return "good" if score >= 80 else "fair" if score >= 50 else "poor"


def _with_fixes(cards) -> list[Scorecard]:
    """Each card with its dimension cells and its fixes, costliest first (no query)."""
    weights = get_rubric().weights
    out = list(cards)
    for card in out:
        card.cells = [
            {"key": key, "label": label, "score": card.scores[key], "band": _band(card.scores[key])}
            for key, label in Dimension.choices
        ]
        card.fixes = fixes_for(card.scores, card.reasons, card.weights or weights)
        card.shown_fixes = card.fixes[:SHOWN_FIXES]
        card.more_fixes = card.fixes[SHOWN_FIXES:]
    return out


def _valid_grades(params) -> str:
    """Drop grade values that are not grades from ``params``; the message saying so, or ''.

    The page then shows every grade with the message next to the filter, rather than the
    FilterSet's raw "Select a valid choice" or an empty table."""
    wanted = [g for g in params.getlist("grade") if g]
    unknown = [g for g in wanted if g not in Grade.values]
    if not unknown:
        return ""
    params.setlist("grade", [g for g in wanted if g in Grade.values])
    names = ", ".join(f"“{g}”" for g in unknown)
    verb = "is not a grade" if len(unknown) == 1 else "are not grades"
    grades = ", ".join(Grade.values[:-1]) + f" or {Grade.values[-1]}"
    return f"{names} {verb}: choose {grades}. Showing every grade instead."


@vary_on_htmx
@login_required
def scorecard_index(request):
    """Leaderboard, grade distribution and rubric for a quarter, and the apps' scorecards."""
    quarter = _quarter_from(request)
    visible = Scorecard.objects.visible_to(request.user)
    params = request.GET.copy()
    params["quarter"] = quarter.label
    grade_error = _valid_grades(params)
    filterset = ScorecardFilterSet(params, queryset=visible.for_list())
    cards = (
        filterset.qs.order_by("-overall", "app__name") if filterset.is_valid() else visible.none()
    )
    page = Paginator(cards, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    context = {
        "quarter": quarter,
        "filterset": filterset,
        "grade_error": grade_error,
        "selected_grades": params.getlist("grade"),
        "has_filters": any(params.getlist(k) != [""] and params.getlist(k) for k in FILTERS),
        "page": page,
        "cards": _with_fixes(page.object_list),
        "dimensions": [(key, label, SHORT_LABELS[key]) for key, label in Dimension.choices],
        "grades": Grade.values,
        "query": urlencode({k: v for k, v in params.items() if k != "page"}),
        # The quarterly job scores a quarter once it has ended, on the next quarter's first day.
        "quarter_pending": quarter.end > now.date(),
        "scored_at": scoring_moment(quarter),
        "can_compute": permissions.can_compute_scorecards(request.user)
        and quarter.end <= now.date(),
    }
    if wants_fragment(request, target="scorecard-results"):
        return render(request, "scorecards/partials/scorecard_table.html", context)
    quarter_cards = visible.for_quarter(quarter.label)
    distribution = grade_counts(quarter_cards)
    context.update(
        {
            "leaderboard": team_rollups(quarter_cards),
            "distribution": distribution,
            "grade_chart": charts.column_chart(list(distribution.items()), colours=GRADE_COLOURS),
            "total": sum(distribution.values()),
            "rubric": get_rubric(),
            "quarters": _known_quarters(quarter.label),
            "teams": Team.objects.order_by("name"),
        }
    )
    return render(request, "scorecards/index.html", context)


@login_required
@require_POST
def scorecard_compute(request):
    """The platform team's "score it now" for an ended quarter the beat job never scored
    (Appkeeper was not running on the quarter's first day, or the job failed). The task
    upserts, so running it for a quarter already scored only refreshes it."""
    if not permissions.can_compute_scorecards(request.user):
        raise PermissionDenied("Only the platform team can score a quarter on demand.")
    try:
        quarter = periods.parse_quarter(request.POST.get("quarter", ""))
    except periods.PeriodError as exc:
        return HttpResponseBadRequest(str(exc))
    if quarter.end > timezone.now().date():
        messages.error(
            request,
            f"{quarter.label} has not ended: it is scored on {day(quarter.end)}, "
            "once all its days are in.",
        )
    else:
        compute_quarterly_scorecards.delay(quarter.label)
        messages.success(
            request,
            f"Scoring {quarter.label} has started; the scorecards appear here when it is done.",
        )
    return redirect(f"{reverse('scorecards')}?{urlencode({'quarter': quarter.label})}")


@login_required
def cleanup_page(request):
    """The quarterly review's agenda, by team; ``?format=csv`` downloads it."""
    quarter = _quarter_from(request)
    groups = cleanup_report(user=request.user, quarter=quarter)
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            csv_text(CSV_HEADER, cleanup_csv_rows(groups)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="cleanup-{quarter.label}.csv"'
        return response
    counts: dict[str, int] = {}
    for team in groups:
        for app in team["apps"]:
            for issue in app["issues"]:
                counts[issue["label"]] = counts.get(issue["label"], 0) + 1
    return render(
        request,
        "scorecards/cleanup.html",
        {
            "quarter": quarter,
            "groups": groups,
            "apps_total": sum(t["count"] for t in groups),
            "issue_counts": sorted(counts.items()),
            "quarters": _known_quarters(quarter.label),
            "csv_url": f"{reverse('scorecards-cleanup')}?"
            + urlencode({"quarter": quarter.label, "format": "csv"}),
        },
    )


def _month_name(label: str) -> str:
    """``2026-10`` → ``Oct 2026``, as the page's dates read."""
    return f"{datetime.strptime(label, '%Y-%m'):%b %Y}"


@login_required
def chargeback_page(request):
    """Finance's page: period picker, grouping, table, cost by team, month over month."""
    if not permissions.can_see_chargeback(request.user):
        raise PermissionDenied(cb.CHARGEBACK_DENIED)
    data = request.GET or {"period": periods.current_quarter().label, "group_by": "team"}
    form = ChargebackForm(data)
    context: dict = {"form": form, "currency": settings.APPKEEPER_CURRENCY}
    if form.is_valid():
        period, keys = form.cleaned_data["report_period"], form.cleaned_data["keys"]
        scope = cb.scope_for(request.user)
        report = cb.chargeback_report(period=period, group_by=keys, scope=scope)
        monthly = cb.monthly_cost_by_team(period=period, scope=scope)
        team_costs = sorted(
            ((t["name"], t["total"]) for t in monthly["teams"]),
            key=lambda item: (-item[1], item[0]),
        )
        api_params = {"group_by": ",".join(keys), "format": "csv"}
        if period.kind == "range":
            api_params.update({"from": period.start.isoformat(), "to": period.last.isoformat()})
        else:
            api_params["period"] = period.label
        labels = cb.group_labels(keys, report.rows)
        context.update(
            {
                "report": report,
                "rows": [{**r, "cells": [labels[k][r[k]] for k in keys]} for r in report.rows],
                "month_names": [_month_name(label) for label in monthly["months"]],
                "compared_names": [_month_name(label) for label in monthly["compared"] or ()],
                "incomplete_names": [_month_name(label) for label in monthly["incomplete"]],
                "period": period,
                "keys": keys,
                "key_labels": [dict(cb.GroupKey.choices)[k] for k in keys],
                "monthly": monthly,
                # Sized for half a page: drawn at full width it would be scaled down to
                # unreadable labels.
                "team_chart": charts.bar_chart(team_costs, width=480, label_width=130),
                "csv_url": f"{reverse('api:chargeback')}?{urlencode(api_params)}",
                "scoped": permissions.chargeback_teams(request.user) is not None,
            }
        )
    return render(request, "scorecards/chargeback.html", context)


def app_scorecard_panel(request, app) -> dict | None:
    """The app page's panel: the live quarter-to-date score and past quarters' trend.

    A fixed number of queries: the live score's inputs (the fleet's cost curve is cached)
    and one query for the history."""
    retired = app.state == AppState.RETIRED
    live = None if retired else score_one(app, periods.current_quarter())
    history = list(Scorecard.objects.filter(app=app).order_by("-quarter")[:TREND_QUARTERS])[::-1]
    rubric = get_rubric()
    rows = []
    if live is not None:
        for key, label in Dimension.choices:
            rows.append(
                {
                    "key": key,
                    "label": label,
                    "weight": rubric.weights[key],
                    "score": live.scores[key],
                    "reasons": live.reasons[key],
                }
            )
    return {
        "live": live,
        "live_quarter": periods.current_quarter(),
        "dimension_rows": rows,
        "history": history,
        "trend": charts.sparkline([float(c.overall) for c in history]),
    }
