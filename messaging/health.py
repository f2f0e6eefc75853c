"""How the outbox's deliveries fare, per channel, and the open integration alerts: for the
ops page's Integrations panel and for ``/metrics``. Each view is one aggregate query,
whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import Metric

from catalog.choices import NotificationChannel
from catalog.models import Notification
from core.metrics import gauge_family, register_families
from core.outbox import MAX_ATTEMPTS
from messaging.models import AlertCode, IntegrationAlert

# The channels that leave the machine (in-app rows are read, not delivered).
CHANNELS = (
    NotificationChannel.EMAIL,
    NotificationChannel.WEBHOOK,
    NotificationChannel.SLACK,
    NotificationChannel.TEAMS,
)
ALERTS_SHOWN = 50
WINDOW = timedelta(hours=24)

_UNSENT = Q(sent_at__isnull=True)
_GIVEN_UP = _UNSENT & Q(attempts__gte=MAX_ATTEMPTS)
_RETRYING = _UNSENT & Q(attempts__lt=MAX_ATTEMPTS) & ~Q(last_error="")


def delivery_counts() -> list[dict]:
    """Rows queued in the last 24 h, per channel: delivered, failing and retried, given up,
    waiting for a first try or for a digest (one query)."""
    since = timezone.now() - WINDOW
    rows = {
        row["channel"]: row
        for row in Notification.objects.filter(created_at__gte=since, channel__in=CHANNELS)
        .values("channel")
        .annotate(
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            retrying=Count("pk", filter=_RETRYING),
            given_up=Count("pk", filter=_GIVEN_UP),
            waiting=Count("pk", filter=_UNSENT & Q(attempts=0)),
        )
        .order_by()
    }
    empty = {"sent": 0, "retrying": 0, "given_up": 0, "waiting": 0}
    return [
        {"channel": channel.value, "label": channel.label, **{**empty, **rows.get(channel, {})}}
        for channel in CHANNELS
    ]


def open_alerts() -> dict:
    """The open alerts, newest first, and how many there are (one query)."""
    alerts = list(
        IntegrationAlert.objects.filter(resolved_at__isnull=True)
        .select_related("team")
        .order_by("-last_seen_at", "pk")[: ALERTS_SHOWN + 1]
    )
    return {"alerts": alerts[:ALERTS_SHOWN], "more": len(alerts) > ALERTS_SHOWN}


def integrations() -> dict:
    """The ops page's Integrations panel (two queries)."""
    return {"deliveries": delivery_counts(), **open_alerts()}


def outbox_families() -> Iterable[Metric]:
    """Outbox rows waiting and given up per channel, and open integration alerts per code
    (two queries). Every channel and code has a series, 0 included, so an alert on one
    sees it fall back rather than vanish."""
    rows = {
        row["channel"]: row
        for row in Notification.objects.filter(_UNSENT, channel__in=CHANNELS)
        .values("channel")
        .annotate(
            pending=Count("pk", filter=Q(attempts__lt=MAX_ATTEMPTS)),
            given_up=Count("pk", filter=Q(attempts__gte=MAX_ATTEMPTS)),
        )
        .order_by()
    }
    yield gauge_family(
        "appkeeper_notifications_pending",
        "Outbox rows not delivered yet and still to be tried (held for a digest included), "
        "by channel.",
        ("channel",),
        (((c.value,), rows.get(c, {}).get("pending", 0)) for c in CHANNELS),
    )
    yield gauge_family(
        "appkeeper_notifications_given_up_total",
        "Outbox rows given up (out of attempts, or refused for good), by channel.",
        ("channel",),
        (((c.value,), rows.get(c, {}).get("given_up", 0)) for c in CHANNELS),
    )
    counts = dict(
        IntegrationAlert.objects.filter(resolved_at__isnull=True)
        .values_list("code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    yield gauge_family(
        "appkeeper_integration_alerts_open",
        "Open integration alerts (a revoked Slack token, a removed Teams webhook...), by code.",
        ("code",),
        (((code.value,), counts.get(code, 0)) for code in AlertCode),
    )


def register() -> None:
    register_families("messaging", outbox_families)
