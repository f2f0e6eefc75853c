"""Prometheus metrics: request counters and latencies, and gauges the apps register.

- **Request metrics**, kept in process by ``RequestMetricsMiddleware``: a counter and a
  latency histogram labelled by method, *route name* (``request.resolver_match.view_name``,
  never the raw path, so cardinality stays bounded whatever clients request) and status.
  Under gunicorn each worker keeps its own; set ``PROMETHEUS_MULTIPROC_DIR`` to a writable,
  empty directory and ``/metrics`` sums all workers (prometheus-client's multiprocess mode).
- **Gauges**, computed when Prometheus scrapes, each source in a fixed number of queries:
  core's own (the last success and failure of each Celery task) and whatever the apps
  register from their ``AppConfig.ready()`` with ``register_gauge`` (one family) or
  ``register_families`` (several families from one query). Core imports none of them.

Access (``metrics_view``): with ``APPKEEPER_METRICS_TOKEN`` set, a scraper must send
``Authorization: Bearer <token>``. With it empty, only loopback clients that did not come
through a proxy (no ``X-Forwarded-For``) are answered; everybody else gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
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
from prometheus_client.core import GaugeMetricFamily, Metric
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
# Calls to Redis that failed on a request path and were skipped rather than failing the
# request (core/resilience.py): the cache failing open, a task left for beat to run.
CACHE_ERRORS = Counter(
    "appkeeper_cache_errors",
    "Cache calls that failed and were skipped (the request went on as if under its limits), "
    "by operation.",
    ["operation"],
)
ENQUEUE_ERRORS = Counter(
    "appkeeper_enqueue_errors",
    "Tasks a request could not hand to the broker (beat runs the work later), by task.",
    ["task"],
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

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
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


# --- gauges the apps register -----------------------------------------------------------


@dataclass(frozen=True)
class GaugeSource:
    """A gauge an app contributes: ``collect()`` returns ``(label values, value)`` rows,
    computed in a fixed number of queries."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    collect: Callable[[], Iterable[tuple[tuple[str, ...], float]]]


# Sources of one family each, and collectors that yield several families from one query.
EXTRA_GAUGES: dict[str, GaugeSource] = {}
FAMILY_COLLECTORS: dict[str, Callable[[], Iterable[Metric]]] = {}


def register_gauge(source: GaugeSource) -> None:
    """Add (or replace, by name) a gauge collected at every scrape."""
    EXTRA_GAUGES[source.name] = source


def register_families(key: str, collect: Callable[[], Iterable[Metric]]) -> None:
    """Add (or replace, by key) a callable yielding whole metric families at every scrape,
    for an app whose one query feeds several gauges."""
    FAMILY_COLLECTORS[key] = collect


def gauge_family(
    name: str, doc: str, labels: Iterable[str], rows: Iterable[tuple[Iterable[object], float]]
) -> GaugeMetricFamily:
    """A gauge family from ``(label values, value)`` rows; ``None`` labels become ``""``."""
    family = GaugeMetricFamily(name, doc, labels=list(labels))
    for label_values, value in rows:
        family.add_metric([str(v) if v is not None else "" for v in label_values], value)
    return family


def job_families() -> Iterable[Metric]:
    """Last success and failure of each Celery task, from core's job records (one query)."""
    from core.models import JobRun

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


class RegisteredGauges(Collector):
    """Every registered gauge, computed from the database at scrape time: a fixed number
    of queries per source, whatever the size of the fleet."""

    def collect(self) -> Iterator[Metric]:
        yield from job_families()
        for collect in FAMILY_COLLECTORS.values():
            yield from collect()
        for source in EXTRA_GAUGES.values():
            yield gauge_family(source.name, source.documentation, source.labels, source.collect())


# --- the endpoint ---------------------------------------------------------------------


def _registry() -> CollectorRegistry:
    """The registry a scrape renders: request metrics (per process, or summed over all
    gunicorn workers in multiprocess mode) plus the registered gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    registry.register(RegisteredGauges())
    return registry


class _ProcessMetrics(Collector):
    """This process's default registry (request metrics, process and GC stats)."""

    def collect(self) -> Iterator[Metric]:
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
