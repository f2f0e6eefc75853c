"""The cleanup report: the agenda of the quarterly integration review.

An app is on it when it has no owner (orphaned), is graded D or F for the quarter, had low
usage in the quarter, has no valid API contract, its telemetry went stale, or its reported
calls disagree with its declared dependencies (``lifecycle.observed``; these last three and
being orphaned are judged as of now); each finding comes with the action that clears it.
Five queries whatever the fleet size: apps (with their latest contract), usage per app,
the quarter's scorecards, and the observed calls and declared dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from catalog.models import MicroApp
from core.formats import day
from lifecycle.observed import CallComparison, compare_calls, window_days
from scorecards.choices import CleanupIssue, Dimension, Grade
from scorecards.fixes import fixes_for
from scorecards.models import Scorecard
from scorecards.periods import Period
from scorecards.rubric import get_rubric
from scorecards.scoring import Usage, usage_by_app, with_latest_contract

STALE_TELEMETRY_DAYS = 7
LOW_GRADES = (Grade.D, Grade.F)


@dataclass(frozen=True)
class Finding:
    issue: str
    detail: str
    action: str

    def as_dict(self) -> dict:
        return {
            "issue": self.issue,
            "label": CleanupIssue(self.issue).label,
            "detail": self.detail,
            "action": self.action,
        }


def _first_fix(card: Scorecard) -> tuple[str, list[str]]:
    """The dimension whose fixes raise the score most and those fixes (strengths, like a
    cost below most of the fleet's, are not fixes); else the weakest dimension."""
    fixes = fixes_for(card.scores, card.reasons, card.weights or get_rubric().weights)
    if fixes:
        first = fixes[0].dimension
        return first, [f.text for f in fixes if f.dimension == first]
    return min(card.scores, key=lambda k: (card.scores[k], k)), []


def _names(slugs: list[str]) -> str:
    shown = ", ".join(slugs[:5])
    return shown if len(slugs) <= 5 else f"{shown} and {len(slugs) - 5} more"


def call_findings(calls: CallComparison | None) -> list[Finding]:
    """Observed calls that disagree with the declared dependencies."""
    if calls is None:
        return []
    out = []
    days = window_days()
    if calls.undeclared:
        requests = sum(edge.requests for edge in calls.undeclared)
        out.append(
            Finding(
                CleanupIssue.UNDECLARED_CALLS,
                f"calls {_names([e.slug for e in calls.undeclared])} without declaring "
                f"{'it' if len(calls.undeclared) == 1 else 'them'} "
                f"({requests} requests in {days} days)",
                "Declare the dependency (Observed calls, on the app's page), or stop the calls.",
            )
        )
    if calls.unused:
        out.append(
            Finding(
                CleanupIssue.UNUSED_DEPENDENCIES,
                f"declares {_names([u.slug for u in calls.unused])} but has not called "
                f"{'it' if len(calls.unused) == 1 else 'them'} in {days} days",
                "Remove the dependency if it is gone, or check the telemetry reports the calls.",
            )
        )
    return out


def findings_for(
    app: MicroApp,
    usage: Usage,
    card: Scorecard | None,
    quarter: Period,
    now: datetime,
    calls: CallComparison | None = None,
) -> list[Finding]:
    out = []
    if app.orphaned_at is not None:
        # Judged as of now: whoever answers the other findings has to be found first.
        out.append(
            Finding(
                CleanupIssue.ORPHANED,
                f"{app.owner.get_username() if app.owner is not None else 'The owner'} left on "
                f"{day(app.orphaned_at)} and nobody took the app over",
                "The platform team assigns an owner (Move apps to another owner).",
            )
        )
    if card is not None and card.grade in LOW_GRADES:
        key, reasons = _first_fix(card)
        label = Dimension(key).label.lower()
        fix = f": {'; '.join(reasons[:2])}" if reasons else ""
        out.append(
            Finding(
                CleanupIssue.LOW_GRADE,
                f"graded {card.grade} ({card.overall}) for {quarter.label}",
                f"Improve {label} first{fix}.",
            )
        )
    threshold = settings.APPKEEPER_SUNSET_MIN_REQUESTS
    if usage.requests < threshold:
        out.append(
            Finding(
                CleanupIssue.LOW_USAGE,
                f"{usage.requests} requests in {quarter.label} (threshold {threshold})",
                "Confirm the app is still needed, or retire it.",
            )
        )
    valid = getattr(app, "latest_contract_valid", None)
    if not valid:
        out.append(
            Finding(
                CleanupIssue.NO_CONTRACT,
                "no API contract" if valid is None else "the latest API contract is invalid",
                "Upload a valid OpenAPI or GraphQL contract."
                if valid is None
                else "Fix the contract's validation errors and upload a new version.",
            )
        )
    stale_before = now - timedelta(days=STALE_TELEMETRY_DAYS)
    if app.last_seen_at is None or app.last_seen_at < stale_before:
        out.append(
            Finding(
                CleanupIssue.STALE_TELEMETRY,
                "never reported telemetry"
                if app.last_seen_at is None
                else f"last heartbeat {app.last_seen_at:%Y-%m-%d}",
                "Connect the app's telemetry (heartbeat and daily usage) or retire it.",
            )
        )
    out.extend(call_findings(calls))
    return out


def cleanup_report(*, user, quarter: Period, now: datetime | None = None) -> list[dict]:
    """Apps needing action, grouped by team (by name), worst first within a team."""
    now = now or timezone.now()
    apps_qs = MicroApp.objects.visible_to(user).live()
    apps = with_latest_contract(apps_qs, now).select_related("team", "owner").order_by("pk")
    usage = usage_by_app(quarter, apps_qs)
    cards = {
        c.app_id: c
        for c in Scorecard.objects.for_quarter(quarter.label).filter(app__in=apps_qs.values("pk"))
    }
    calls = compare_calls(apps=apps_qs.values("pk"), today=now.date())
    teams: dict[int, dict] = {}
    for app in apps:
        card = cards.get(app.pk)
        app_usage = usage.get(app.pk, Usage())
        findings = findings_for(app, app_usage, card, quarter, now, calls.get(app.pk))
        if not findings:
            continue
        team = teams.setdefault(
            app.team_id, {"team": app.team.slug, "team_name": app.team.name, "apps": []}
        )
        team["apps"].append(
            {
                "app": app.slug,
                "name": app.name,
                "owner": app.owner.get_username() if app.owner_id else None,
                "state": app.state,
                "grade": card.grade if card else None,
                "overall": card.overall if card else None,
                "requests": app_usage.requests,
                "issues": [f.as_dict() for f in findings],
            }
        )
    for team in teams.values():
        team["apps"].sort(key=lambda a: (-len(a["issues"]), a["name"]))
        team["count"] = len(team["apps"])
    return sorted(teams.values(), key=lambda t: t["team_name"])


CSV_HEADER = [
    "team",
    "app",
    "name",
    "owner",
    "state",
    "grade",
    "overall",
    "requests",
    "issue",
    "detail",
    "action",
]


def cleanup_csv_rows(groups: list[dict]) -> list[list]:
    """One line per finding, for a spreadsheet agenda."""
    rows = []
    for team in groups:
        for app in team["apps"]:
            for issue in app["issues"]:
                rows.append(
                    [
                        team["team"],
                        app["app"],
                        app["name"],
                        app["owner"] or "",
                        app["state"],
                        app["grade"] or "",
                        app["overall"] if app["overall"] is not None else "",
                        app["requests"],
                        issue["issue"],
                        issue["detail"],
                        issue["action"],
                    ]
                )
    return rows
