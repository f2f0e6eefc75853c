"""Lifecycle's Prometheus gauge, registered into core's metrics at start-up."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count

from core.metrics import GaugeSource, register_gauge
from lifecycle.models import SunsetCase


def open_sunset_cases() -> Iterable[tuple[tuple[str, ...], float]]:
    """Sunset cases not yet closed, by team (one query)."""
    rows = (
        SunsetCase.objects.filter(closed_at__isnull=True)
        .values("app__team__slug")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [((row["app__team__slug"],), row["n"]) for row in rows]


def register() -> None:
    register_gauge(
        GaugeSource(
            name="appkeeper_sunset_cases_open",
            documentation="Sunset cases not yet closed, by team.",
            labels=("team",),
            collect=open_sunset_cases,
        )
    )
