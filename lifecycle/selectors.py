"""Reads of the lifecycle rules: the renewal window, why a renewal is refused, and which
apps are used too little to keep.

The services (``lifecycle/services/``) write; these functions only read, so views,
panels and jobs ask them the same questions the services ask before writing. Every
function takes keyword arguments only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db.models import (
    DecimalField,
    Exists,
    Field,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import MicroApp
from lifecycle.choices import SunsetReason
from lifecycle.models import SunsetCase, UsageReport

if TYPE_CHECKING:
    # Only for annotations: django-stubs-ext is a development tool, not installed to run.
    from django_stubs_ext import WithAnnotations

# A sunset case for low usage needs a quarter of history; an upheld contest buys a quarter.
USAGE_WINDOW_DAYS = 90

# --- renewals ------------------------------------------------------------------------------


def renewal_window() -> timedelta:
    """How long before expiry an app can be renewed: from the first (largest) reminder on,
    so every reminder an owner gets can be answered with a renewal. The reminder job, the
    dashboard's "due for renewal" list and the Renew button all use this one window."""
    return timedelta(days=max(settings.APPKEEPER_REMINDER_DAYS))


def renewal_opens_at(*, app: MicroApp) -> datetime | None:
    """When the app's renewal window opens (30 days before expiry by default)."""
    if app.expires_at is None:
        return None
    return app.expires_at - renewal_window()


def renewal_refusal(
    *, app: MicroApp, open_case: SunsetCase | None = None, now: datetime | None = None
) -> str:
    """Why the app cannot be renewed now, or "" if it can.

    ``open_case`` is the app's open sunset case, if any (pass it to save a query when
    the caller has it; only looked up for sunsetting apps).
    """
    now = now or timezone.now()
    if app.state == AppState.ACTIVE:
        opens = renewal_opens_at(app=app)
        if opens is None:
            return "This app has no expiry date to extend."
        if now < opens:
            days = renewal_window().days
            return f"Renewal opens on {opens:%d %b %Y}, {days} days before the app expires."
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


# --- usage sunsetting ----------------------------------------------------------------------


def _usage_sum(field: str, since: date, until: date, output: Field) -> Coalesce:
    rows = (
        UsageReport.objects.filter(app=OuterRef("pk"), date__gte=since, date__lt=until)
        .order_by()
        .values("app")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=output), Value(0, output_field=output))


class UsageFigures(TypedDict):
    """What :func:`low_usage_candidates` annotates each app with: its trailing usage."""

    recent_requests: int
    recent_errors: int
    recent_cost: Decimal


def low_usage_candidates(
    *, now: datetime | None = None
) -> QuerySet[WithAnnotations[MicroApp, UsageFigures]]:
    """Active apps live for more than a quarter whose requests in the 90 complete days
    before today are below ``APPKEEPER_SUNSET_MIN_REQUESTS`` (no telemetry counts as
    zero), without an open case and without a case closed in the last quarter (an upheld
    contest buys a quarter). One query; annotated with the figures the owner is shown
    (``recent_requests``, ``recent_errors``, ``recent_cost``).

    An app past its ``expires_at`` is never a candidate, even while the expiry job has not
    caught up with it yet: its way out is expiry, the grace period and the expired sunset
    case, not a low-usage case (and a critical one's is its re-certification)."""
    now = now or timezone.now()
    # Today is not over, so its usage is partial; the window is the 90 days before it.
    until = now.date()
    since = until - timedelta(days=USAGE_WINDOW_DAYS)
    recent_cases = SunsetCase.objects.filter(app=OuterRef("pk")).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=now - timedelta(days=USAGE_WINDOW_DAYS))
    )
    return (
        MicroApp.objects.filter(
            state=AppState.ACTIVE,
            went_live_at__lte=now - timedelta(days=USAGE_WINDOW_DAYS),
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .exclude(Exists(recent_cases))
        .annotate(
            recent_requests=_usage_sum("requests", since, until, IntegerField()),
            recent_errors=_usage_sum("errors", since, until, IntegerField()),
            recent_cost=_usage_sum(
                "cost", since, until, DecimalField(max_digits=20, decimal_places=4)
            ),
        )
        .filter(recent_requests__lt=settings.APPKEEPER_SUNSET_MIN_REQUESTS)
        .order_by("pk")
    )
