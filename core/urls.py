"""Routes of the platform itself: health, Prometheus metrics, the favicon, and the benchmark
floor."""

from __future__ import annotations

from django.conf import settings
from django.urls import path

from core import views
from core.metrics import metrics_view

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("favicon.ico", views.favicon, name="favicon"),
]

if settings.APPKEEPER_BENCH_ENDPOINTS:
    # The floor of the telemetry benchmark: the same server and middleware, no work.
    urlpatterns.append(path("bench/noop", views.bench_noop, name="bench-noop"))
