"""The panels lifecycle adds to catalog pages (registered from ``LifecycleConfig.ready()``).

Each context function runs a fixed number of queries, whatever the size of the fleet or
the app's history: the lists are sliced and the usage is one aggregate over 90 days.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q, Sum
from django.utils import timezone

from catalog import permissions
from catalog.choices import AppState
from catalog.models import MicroApp, Notification
from catalog.retirement import live_dependents
from core import charts
from core.dates import days_until
from core.panels import (
    NavEntry,
    Panel,
    RowAction,
    register_app_panel,
    register_app_row_action,
    register_dashboard_panel,
    register_nav,
)
from lifecycle import observed, selectors, sending
from lifecycle.choices import SunsetReason
from lifecycle.forms import RenewForm, SunsetDecideForm, SunsetRespondForm
from lifecycle.models import Renewal, SunsetCase, UsageReport

USAGE_DAYS = 90
SPARK_WIDTH, SPARK_HEIGHT = 180, 32


def register() -> None:
    register_app_panel(
        Panel(
            key="lifecycle",
            title="Lifecycle",
            template="lifecycle/panels/app_lifecycle.html",
            context=app_panel_context,
            order=20,
        )
    )
    register_app_panel(
        Panel(
            key="telemetry",
            title="Send telemetry",
            template="lifecycle/panels/send_telemetry.html",
            context=sending.panel_context,
            order=15,  # right after the go-live checklist, whose heartbeat item links here
        )
    )
    register_app_panel(
        Panel(
            key="observed-calls",
            title="Observed calls",
            template="lifecycle/panels/observed_calls.html",
            context=observed_calls_panel_context,
            order=25,
        )
    )
    register_dashboard_panel(
        Panel(
            key="notifications",
            title="Notifications",
            template="lifecycle/panels/notifications.html",
            context=notifications_panel_context,
            order=5,
        )
    )
    register_dashboard_panel(
        Panel(
            key="lifecycle-todo",
            title="Renewals and sunset cases",
            template="lifecycle/panels/todo.html",
            context=todo_panel_context,
            order=6,
        )
    )
    register_app_row_action(
        RowAction(
            key="renew", template="lifecycle/partials/renew_button.html", context=renew_action
        )
    )
    register_nav(NavEntry(label="Notifications", url_name="lifecycle:notifications", order=80))
    register_nav(NavEntry(label="Sunset cases", url_name="lifecycle:sunset-cases", order=45))


def renew_action(request, app: MicroApp) -> dict | None:
    """A Renew link in app tables, for an app the user may renew whose renewal window is
    open (no query: the window is read from the app's own fields; sunsetting apps are
    renewed from their page, where the case decides)."""
    user = getattr(request, "user", None)
    if user is None or app.expires_at is None or not permissions.can_renew(user, app):
        return None
    if app.state == AppState.EXPIRED:
        return {}
    opens = selectors.renewal_opens_at(app=app)
    if app.state == AppState.ACTIVE and opens is not None and timezone.now() >= opens:
        return {}
    return None


# --- usage ---------------------------------------------------------------------------------


def usage_summary(app: MicroApp, *, days: int = USAGE_DAYS) -> dict:
    """Totals of the last ``days`` days and a sparkline of daily requests (one query)."""
    today = timezone.now().date()
    daily = {
        row["date"]: row
        for row in UsageReport.objects.filter(app=app)
        .trailing(days, today=today)
        .values("date")
        .annotate(requests=Sum("requests"), errors=Sum("errors"), cost=Sum("cost"))
        .order_by("date")
    }
    series = [
        int((daily.get(today - timedelta(days=offset)) or {}).get("requests") or 0)
        for offset in range(days - 1, -1, -1)
    ]
    requests = sum(series)
    errors = sum(int(r["errors"] or 0) for r in daily.values())
    cost = sum((r["cost"] or 0 for r in daily.values()), start=0)
    return {
        "days": days,
        "requests": requests,
        "errors": errors,
        "error_rate": (errors / requests * 100) if requests else None,
        "cost": cost,
        "currency": settings.APPKEEPER_CURRENCY,
        "reporting_days": len(daily),
        "sparkline": charts.count_sparkline(series, width=SPARK_WIDTH, height=SPARK_HEIGHT),
        "threshold": settings.APPKEEPER_SUNSET_MIN_REQUESTS,
        "below_threshold": requests < settings.APPKEEPER_SUNSET_MIN_REQUESTS,
    }


# --- app page --------------------------------------------------------------------------------


def app_panel_context(request, app: MicroApp) -> dict | None:
    """Expiry countdown and Renew form, renewal history, the sunset case with its forms,
    usage of the last 90 days, and the telemetry secret status.

    Three queries (renewals, cases, usage), a fourth for the apps calling it while a case
    is open, plus the user's teams and groups, which ``catalog.permissions`` caches on the
    request's user."""
    now = timezone.now()
    user = request.user
    renewals = list(Renewal.objects.filter(app=app).select_related("renewed_by")[:10])
    cases = list(
        SunsetCase.objects.filter(app=app)
        .select_related("responded_by", "decided_by")
        .order_by(F("closed_at").desc(nulls_first=True), "-opened_at")[:5]  # the open one first
    )
    open_case = next((c for c in cases if c.is_open), None)
    # Who would be left calling the app, for the case's note and its forms' ticks.
    case_dependents = live_dependents(app) if open_case else []
    may_renew = permissions.can_renew(user, app)
    refusal = selectors.renewal_refusal(app=app, open_case=open_case, now=now)
    left = (app.expires_at - now) if app.expires_at else None
    grace_ends = (
        app.expires_at + timedelta(days=settings.APPKEEPER_GRACE_DAYS)
        if app.expires_at and app.state == AppState.EXPIRED
        else None
    )
    previous_valid = bool(
        app.previous_ingestion_secret
        and app.previous_secret_valid_until
        and app.previous_secret_valid_until > now
    )
    return {
        "app": app,
        "now": now,
        # Same rounding as the catalog's countdown badges, so both say the same number.
        "days_left": days_until(app.expires_at) if left is not None else None,
        "expired": left is not None and left.total_seconds() <= 0,
        "grace_ends": grace_ends,
        "is_critical": not app.expires,
        "renewal_opens_at": selectors.renewal_opens_at(app=app),
        "can_renew": may_renew and not refusal,
        "renew_refusal": refusal,
        "renew_form": RenewForm() if may_renew and not refusal else None,
        "renewals": renewals,
        "open_case": open_case,
        "past_cases": [c for c in cases if not c.is_open],
        "can_respond": bool(
            open_case and open_case.can_respond and permissions.can_respond_sunset(user, app)
        ),
        "can_decide": bool(
            open_case and open_case.can_decide and permissions.can_decide_sunset(user, app)
        ),
        "case_dependents": case_dependents,
        "respond_form": SunsetRespondForm(dependents=case_dependents),
        "decide_form": SunsetDecideForm(dependents=case_dependents),
        "renew_reactivates": bool(open_case and open_case.reason == SunsetReason.EXPIRED),
        "usage": usage_summary(app),
        "has_secret": bool(app.ingestion_secret),
        "previous_secret_valid_until": (
            app.previous_secret_valid_until if previous_valid else None
        ),
        "can_rotate": app.state != AppState.RETIRED and permissions.can_rotate_secret(user, app),
        "last_seen_at": app.last_seen_at,
    }


def observed_calls_panel_context(request, app: MicroApp) -> dict | None:
    """What the app's telemetry says it calls, against what it declares (two queries);
    hidden for an app that has never reported a call."""
    comparison = observed.compare_app_calls(app=app)
    if comparison.watched_since is None:
        return None
    covered_from = None
    if comparison.reports_calls and not comparison.covers_window:
        covered_from = comparison.watched_since + timedelta(days=observed.window_days() - 1)
    return {
        "covered_from": covered_from,
        "app": app,
        "comparison": comparison,
        "days": observed.window_days(),
        "can_declare": app.state != AppState.RETIRED and permissions.can_edit(request.user, app),
    }


# --- dashboard ---------------------------------------------------------------------------------


def notifications_panel_context(request) -> dict | None:
    """The bell: unread count and the five newest unread notifications (two queries)."""
    user = request.user
    if not user.is_authenticated:
        return None
    unread = Notification.objects.unread_for(user)
    return {
        "unread_count": unread.count(),
        "latest": list(unread.select_related("app").order_by("-created_at", "-pk")[:5]),
    }


def todo_panel_context(request) -> dict | None:
    """What needs the user now: their apps due for renewal (with Renew buttons), their
    sunset cases awaiting an answer, and for the platform team the contested cases.
    Two or three queries, whatever the fleet size."""
    user = request.user
    if not user.is_authenticated:
        return None
    now = timezone.now()
    horizon = now + selectors.renewal_window()
    due = list(
        MicroApp.objects.owned_by(user)
        .filter(Q(state=AppState.ACTIVE, expires_at__lte=horizon) | Q(state=AppState.EXPIRED))
        .select_related("team")
        .order_by("expires_at")[:20]
    )
    mine = MicroApp.objects.owned_by(user).values("pk")
    cases = list(
        SunsetCase.objects.awaiting_owner()
        .filter(app__in=mine)
        .select_related("app")
        .order_by("grace_ends_at")[:20]
    )
    contested = []
    if permissions.can_decide_sunset(user):
        contested = list(
            SunsetCase.objects.awaiting_decision().select_related("app").order_by("opened_at")[:20]
        )
    if not (due or cases or contested):
        return {"empty": True, "due": [], "cases": [], "contested": []}
    for app in due:
        app.days_left = days_until(app.expires_at)
    return {"empty": False, "due": due, "cases": cases, "contested": contested, "now": now}


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.unread_for(user).count()
