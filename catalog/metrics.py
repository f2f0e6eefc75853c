"""Prometheus metrics: request counters and latencies, and catalog gauges read at scrape time.

Two kinds of metric live here:

- **Request metrics**, kept in process by ``RequestMetricsMiddleware``: a counter and a
  latency histogram labelled by method, *route name* (``request.resolver_match.view_name``,
  never the raw path, so cardinality stays bounded whatever clients request) and status.
  Under gunicorn each worker keeps its own; set ``PROMETHEUS_MULTIPROC_DIR`` to a writable,
  empty directory and ``/metrics`` sums all workers (prometheus-client's multiprocess mode).
- **Catalog gauges**, computed by ``CatalogCollector`` when Prometheus scrapes, in a fixed
  number of queries whatever the size of the fleet: apps by team and state, apps by region,
  apps expiring within 7 and 30 days, overdue reviews, apps with stale telemetry, the last
  success and failure of each Celery task, plus whatever later apps register.

``catalog`` imports neither ``lifecycle`` nor ``scorecards``; they add gauges with
``register_gauge`` from their ``AppConfig.ready()``. Open sunset cases are read through
``django.apps.apps.get_model`` so the gauge appears once lifecycle has the model.

Access (``metrics_view``): with ``APPKEEPER_METRICS_TOKEN`` set, a scraper must send
``Authorization: Bearer <token>``. With it empty, only loopback clients that did not come
through a proxy (no ``X-Forwarded-For``) are answered; everybody else gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# --- request metrics ------------------------------------------------------------------

REQUESTS = Counter(
    "appkeeper_http_requests",
    "HTTP requests answered, by method, route name and status.",
    ["method", "view", "status"],
)
LATENCY = Histogram(
    "appkeeper_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route name.",
    ["method", "view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_name(request: HttpRequest) -> str:
    """A bounded label for the request's route: its view name, or ``unmatched``."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class RequestMetricsMiddleware:
    """Count every request and observe its latency, labelled by route name, not path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - start
        method = request.method if request.method in _KNOWN_METHODS else "other"
        view = route_name(request)
        REQUESTS.labels(method, view, str(response.status_code)).inc()
        LATENCY.labels(method, view).observe(elapsed)
        return response


# --- catalog gauges -------------------------------------------------------------------


@dataclass(frozen=True)
class GaugeSource:
    """A gauge another app contributes: ``collect()`` returns ``(label values, value)`` rows,
    computed in a fixed number of queries."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    collect: Callable[[], Iterable[tuple[tuple[str, ...], float]]]


EXTRA_GAUGES: dict[str, GaugeSource] = {}


def register_gauge(source: GaugeSource) -> None:
    """Add (or replace, by name) a gauge collected at every scrape."""
    EXTRA_GAUGES[source.name] = source


def _family(name: str, doc: str, labels: Iterable[str], rows) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels))
    for label_values, value in rows:
        family.add_metric([str(v) if v is not None else "" for v in label_values], value)
    return family


def _open_sunset_cases() -> Iterable[tuple[tuple[str, ...], float]]:
    """Open sunset cases by team, if lifecycle defines SunsetCase (catalog cannot import it)."""
    from django.apps import apps

    try:
        model = apps.get_model("lifecycle", "SunsetCase")
    except LookupError:
        return []
    fields = {f.name for f in model._meta.get_fields()}
    if "closed_at" in fields:
        open_cases = model.objects.filter(closed_at__isnull=True)
    elif "state" in fields:
        open_cases = model.objects.exclude(state__in=["closed", "retired", "cancelled"])
    else:
        return []
    rows = open_cases.values("app__team__slug").annotate(n=Count("pk"))
    return [((r["app__team__slug"],), r["n"]) for r in rows]


register_gauge(
    GaugeSource(
        name="appkeeper_sunset_cases_open",
        documentation="Sunset cases not yet closed, by team.",
        labels=("team",),
        collect=_open_sunset_cases,
    )
)


class CatalogCollector(Collector):
    """Fleet gauges computed from the database at scrape time (six queries + extras)."""

    def collect(self):
        from catalog.choices import AppState
        from catalog.models import JobRun, MicroApp, Review

        now = timezone.now()

        # 1. Apps by team and state.
        rows = MicroApp.objects.values_list("team__slug", "state").annotate(n=Count("pk"))
        yield _family(
            "appkeeper_apps",
            "Registered apps by team and lifecycle state.",
            ("team", "state"),
            (((team, state), n) for team, state, n in rows.order_by()),
        )

        # 2. Live apps by region.
        through = MicroApp.regions.through
        rows = (
            through.objects.exclude(microapp__state=AppState.RETIRED)
            .values_list("region__code")
            .annotate(n=Count("pk"))
            .order_by()
        )
        yield _family(
            "appkeeper_apps_by_region",
            "Apps that are not retired, by deployment region.",
            ("region",),
            (((code,), n) for code, n in rows),
        )

        # 3. Active apps per team: expiring soon, and without a recent heartbeat.
        stale_before = now - timedelta(hours=settings.APPKEEPER_HEARTBEAT_HOURS)
        active = (
            MicroApp.objects.filter(state=AppState.ACTIVE)
            .values("team__slug")
            .annotate(
                within_7=Count(
                    "pk",
                    filter=Q(expires_at__gte=now, expires_at__lte=now + timedelta(days=7)),
                ),
                within_30=Count(
                    "pk",
                    filter=Q(expires_at__gte=now, expires_at__lte=now + timedelta(days=30)),
                ),
                stale=Count(
                    "pk", filter=Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=stale_before)
                ),
            )
            .order_by()
        )
        active = list(active)
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

        # 4. Overdue reviews by team.
        rows = (
            Review.objects.filter(decision="", due_at__lt=now)
            .values_list("app__team__slug")
            .annotate(n=Count("pk"))
            .order_by()
        )
        yield _family(
            "appkeeper_reviews_overdue",
            "Open reviews past their due time, by team.",
            ("team",),
            (((team,), n) for team, n in rows),
        )

        # 5. Last success and failure of each task.
        rows = (
            JobRun.objects.values("task")
            .annotate(
                last_success=Max("finished_at", filter=Q(outcome=JobRun.Outcome.SUCCESS)),
                last_failure=Max("finished_at", filter=Q(outcome=JobRun.Outcome.FAILURE)),
            )
            .order_by()
        )
        success = GaugeMetricFamily(
            "appkeeper_job_last_success_timestamp_seconds",
            "Unix time of the last successful run of each Celery task.",
            labels=["task"],
        )
        failure = GaugeMetricFamily(
            "appkeeper_job_last_failure_timestamp_seconds",
            "Unix time of the last failed run of each Celery task.",
            labels=["task"],
        )
        for row in rows:
            if row["last_success"] is not None:
                success.add_metric([row["task"]], row["last_success"].timestamp())
            if row["last_failure"] is not None:
                failure.add_metric([row["task"]], row["last_failure"].timestamp())
        yield success
        yield failure

        # 6. Whatever other apps registered, one family each.
        for source in EXTRA_GAUGES.values():
            yield _family(source.name, source.documentation, source.labels, source.collect())


# --- the endpoint ---------------------------------------------------------------------


def _registry() -> CollectorRegistry:
    """The registry a scrape renders: request metrics (per process, or summed over all
    gunicorn workers in multiprocess mode) plus the catalog gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    registry.register(CatalogCollector())
    return registry


class _ProcessMetrics(Collector):
    """This process's default registry (request metrics, process and GC stats)."""

    def collect(self):
        yield from REGISTRY.collect()


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def scrape_allowed(request: HttpRequest) -> bool:
    """Bearer token when one is configured; otherwise direct loopback clients only."""
    token = settings.APPKEEPER_METRICS_TOKEN
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
    if "X-Forwarded-For" in request.headers:
        return False  # a reverse proxy on the same host would make everyone "loopback"
    return _is_loopback(request.META.get("REMOTE_ADDR", ""))


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        if settings.APPKEEPER_METRICS_TOKEN:
            response = HttpResponse(
                "Send 'Authorization: Bearer <APPKEEPER_METRICS_TOKEN>'.\n",
                status=401,
                content_type="text/plain; charset=utf-8",
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return HttpResponse(
            "Metrics are served to loopback clients only while APPKEEPER_METRICS_TOKEN is "
            "unset; set it and scrape with 'Authorization: Bearer <token>'.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
