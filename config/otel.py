"""Optional OpenTelemetry tracing of Django requests, Celery tasks and psycopg queries.

Tracing is off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set *and* the ``otel`` extra is
installed; either missing makes :func:`configure_tracing` a no-op, so the app never fails
because of tracing. The web entry points (``config/wsgi.py``, ``config/asgi.py``) and the
Celery worker (``config/celery.py``) call it; settings never do, because management
commands, tests and beat import settings too and have nothing worth tracing.

The OTLP exporter reads the standard ``OTEL_EXPORTER_OTLP_*`` variables itself (endpoint,
headers, timeout), so nothing here parses them.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger(__name__)

# Health checks and Prometheus scrapes arrive every few seconds and would drown real traces.
DEFAULT_EXCLUDED_URLS = "/healthz,/metrics"

# The provider and instrumentors of this process, kept so that a second call is a no-op and
# disable_tracing() can undo everything (tests).
_provider: TracerProvider | None = None
_instrumentors: list[Any] = []


def configure_tracing(service_name: str, *, exporter: SpanExporter | None = None) -> bool:
    """Trace Django, Celery and psycopg in this process; return whether tracing is on.

    1. Do nothing (False) without ``OTEL_EXPORTER_OTLP_ENDPOINT`` or without the
       opentelemetry packages; a second call in the same process is a no-op (True).
    2. Build a TracerProvider whose resource names the service (``OTEL_SERVICE_NAME``
       overrides ``service_name``; ``OTEL_RESOURCE_ATTRIBUTES`` adds to it).
    3. Export through a BatchSpanProcessor to OTLP over HTTP/protobuf and install the
       provider globally, so code that calls ``trace.get_tracer()`` joins the same traces.
    4. Instrument Django (a server span per request), Celery (a producer span per publish
       that injects ``traceparent`` into the task headers, a consumer span per run that
       continues it) and psycopg (a client span per query).

    ``exporter`` is for tests: spans go there synchronously, the env var is not needed, and
    the provider is *not* installed globally (the global can be set only once per process,
    so a test must not take it).
    """
    global _provider
    if exporter is None and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    if _provider is not None:
        return True
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        logger.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is off: %s", exc)
        return False

    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    excluded = os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS", DEFAULT_EXCLUDED_URLS)
    try:
        if exporter is None:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        else:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        for instrumentor, options in (
            (DjangoInstrumentor(), {"excluded_urls": excluded}),
            (CeleryInstrumentor(), {}),
            (PsycopgInstrumentor(), {}),
        ):
            # Instrumentors are process-wide singletons: leave one instrumented elsewhere
            # (opentelemetry-instrument) alone, and never instrument one twice.
            if not instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.instrument(tracer_provider=provider, **options)
                _instrumentors.append(instrumentor)
    except Exception:
        # Tracing is an aid; a broken exporter setting must not take the service down.
        logger.exception("OpenTelemetry tracing could not start; running without it")
        _provider = provider
        disable_tracing()
        return False
    if exporter is None:
        trace.set_tracer_provider(provider)
    _provider = provider
    logger.info("OpenTelemetry tracing on as %s", name)
    return True


def disable_tracing() -> None:
    """Undo :func:`configure_tracing`: uninstrument, flush and shut the provider down."""
    global _provider
    while _instrumentors:
        _instrumentors.pop().uninstrument()
    if _provider is not None:
        _provider.shutdown()
        _provider = None
