"""Routes for operating Appkeeper itself: Prometheus metrics and the platform team's ops page."""

from __future__ import annotations

from django.conf import settings
from django.urls import path

from catalog import views_ops
from catalog.metrics import metrics_view

urlpatterns = [
    path("metrics", metrics_view, name="metrics"),
    path("ops/", views_ops.ops_page, name="ops"),
]

if settings.APPKEEPER_BENCH_ENDPOINTS:
    # The floor of the telemetry benchmark: the same server and middleware, no work.
    urlpatterns.append(path("bench/noop", views_ops.bench_noop, name="bench-noop"))
