"""The registry's Prometheus gauges, registered into core's metrics at start-up.

Computed at scrape time in four queries, whatever the size of the fleet: apps by team and
state (and the orphaned among the live ones), live apps by region, active apps expiring
within 7 and 30 days and without a recent heartbeat, and overdue reviews.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from catalog.choices import AppState
from catalog.models import BackstageSource, MicroApp, Review, SyncStatus
from core.metrics import GaugeSource, gauge_family, register_families, register_gauge


def fleet_families() -> Iterable[Metric]:
    now = timezone.now()

    rows = list(
        MicroApp.objects.values_list("team__slug", "state")
        .annotate(n=Count("pk"), orphaned=Count("pk", filter=Q(orphaned_at__isnull=False)))
        .order_by()
    )
    yield gauge_family(
        "appkeeper_apps",
        "Registered apps by team and lifecycle state.",
        ("team", "state"),
        (((team, state), n) for team, state, n, _ in rows),
    )
    # From the same rows: every team with live apps has a series, 0 included, so an alert
    # on it sees the value fall back rather than the series vanish.
    orphaned: dict[str, int] = {}
    for team, state, _, count in rows:
        if state != AppState.RETIRED:
            orphaned[team] = orphaned.get(team, 0) + count
    yield gauge_family(
        "appkeeper_apps_orphaned",
        "Live apps whose owner left with nobody to take them over, by team: the platform "
        "team assigns them an owner.",
        ("team",),
        (((team,), n) for team, n in sorted(orphaned.items())),
    )

    through = MicroApp.regions.through
    rows = (
        through.objects.exclude(microapp__state=AppState.RETIRED)
        .values_list("region__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    yield gauge_family(
        "appkeeper_apps_by_region",
        "Apps that are not retired, by deployment region.",
        ("region",),
        (((code,), n) for code, n in rows),
    )

    yield from _active_families(now)

    rows = (
        Review.objects.filter(decision="", due_at__lt=now)
        .values_list("app__team__slug")
        .annotate(n=Count("pk"))
        .order_by()
    )
    yield gauge_family(
        "appkeeper_reviews_overdue",
        "Open reviews past their due time, by team.",
        ("team",),
        (((team,), n) for team, n in rows),
    )


def _active_families(now) -> Iterable[Metric]:
    """Active apps per team: expiring soon, and without a recent heartbeat (one query)."""
    stale_before = now - timedelta(hours=settings.APPKEEPER_HEARTBEAT_HOURS)
    within = {
        days: Count("pk", filter=Q(expires_at__gte=now, expires_at__lte=now + timedelta(days=days)))
        for days in (7, 30)
    }
    active = (
        MicroApp.objects.filter(state=AppState.ACTIVE)
        .values("team__slug")
        .annotate(
            within_7=within[7],
            within_30=within[30],
            stale=Count(
                "pk", filter=Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=stale_before)
            ),
        )
        .order_by()
    )
    expiring = GaugeMetricFamily(
        "appkeeper_apps_expiring",
        "Active apps whose expiry falls within the next N days, by team.",
        labels=["team", "within_days"],
    )
    stale = GaugeMetricFamily(
        "appkeeper_apps_telemetry_stale",
        f"Active apps with no heartbeat in the last {settings.APPKEEPER_HEARTBEAT_HOURS} "
        "hours (or never), by team.",
        labels=["team"],
    )
    for row in active:
        expiring.add_metric([row["team__slug"], "7"], row["within_7"])
        expiring.add_metric([row["team__slug"], "30"], row["within_30"])
        stale.add_metric([row["team__slug"]], row["stale"])
    yield expiring
    yield stale


def backstage_sources_failing() -> Iterable[tuple[tuple[str, ...], float]]:
    """1 for each source whose last run failed, 0 for the others (one query): a series
    per source, so an alert sees it recover rather than vanish."""
    rows = BackstageSource.objects.filter(enabled=True, retired_at__isnull=True).values_list(
        "name", "last_status"
    )
    return [((name,), float(status == SyncStatus.FAILED)) for name, status in rows]


def register() -> None:
    register_families("catalog", fleet_families)
    register_gauge(
        GaugeSource(
            name="appkeeper_backstage_source_failing",
            documentation="1 when the last sync of an enabled Backstage source failed.",
            labels=("source",),
            collect=backstage_sources_failing,
        )
    )
