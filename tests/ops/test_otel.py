"""Optional OpenTelemetry tracing: off by default; on, one trace runs from request to task.

The probe view below stands in for any view that reads the database and enqueues work, so
these tests do not depend on which real endpoints enqueue tasks today.
"""

from __future__ import annotations

import sys

import pytest
from celery.result import EagerResult
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from config import otel
from config.celery import app

WEB = "appkeeper-web"
PROBE_TASK = "tests.ops.otel_probe"

# The broker connection the probe view publishes on; None publishes eagerly (test default).
_broker: dict[str, object] = {"connection": None}


@app.task(name=PROBE_TASK)
def otel_probe() -> str:
    """Return the trace id the task body ran under, as 32 hex digits."""
    from opentelemetry import trace

    return format(trace.get_current_span().get_span_context().trace_id, "032x")


def enqueue_probe(request: HttpRequest) -> JsonResponse:
    """A view shaped like the app's: one query, then a task."""
    get_user_model().objects.exists()
    result = otel_probe.apply_async(connection=_broker["connection"])
    ran_under = result.get() if isinstance(result, EagerResult) else None
    return JsonResponse({"task_id": result.id, "ran_under": ran_under})


urlpatterns = [path("otel-probe/", enqueue_probe)]


def hex_trace_id(span) -> str:
    return format(span.context.trace_id, "032x")


def only(spans, kind_name: str, name_prefix: str = ""):
    found = [s for s in spans if s.kind.name == kind_name and s.name.startswith(name_prefix)]
    assert len(found) == 1, [(s.name, s.kind.name) for s in spans]
    return found[0]


@pytest.fixture(autouse=True)
def _no_tracing_left_behind(monkeypatch):
    """Every test starts from the defaults and leaves no instrumentation behind."""
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    yield
    otel.disable_tracing()


@pytest.fixture
def spans():
    """Trace into memory; teardown (above) uninstruments Django, Celery and psycopg."""
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    assert otel.configure_tracing(WEB, exporter=exporter) is True
    return exporter


@pytest.fixture
def memory_broker(monkeypatch):
    """Publish for real, to an in-process broker, and hand the queue to the test."""
    from kombu import Connection

    # app.conf is no plain object for monkeypatch.setattr, so restore by hand.
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with Connection("memory://") as conn:
            queue = app.amqp.queues[app.conf.task_default_queue](conn.default_channel)
            queue.declare()
            queue.purge()
            monkeypatch.setitem(_broker, "connection", conn)
            yield queue
    finally:
        app.conf.task_always_eager = eager


def test_tracing_is_off_without_an_endpoint(monkeypatch, settings):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)

    assert otel.configure_tracing(WEB) is False

    assert otel._provider is None
    assert not any("opentelemetry" in m for m in settings.MIDDLEWARE)
    if "opentelemetry.sdk.trace" in sys.modules:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        assert not isinstance(trace.get_tracer_provider(), TracerProvider)


def test_tracing_is_off_when_the_packages_are_missing(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # makes every import fail

    assert otel.configure_tracing(WEB) is False
    assert otel._provider is None


def test_an_endpoint_installs_a_named_provider_exporting_over_otlp_http(monkeypatch):
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor

    installed = []
    # The global provider can be set once per process; keep it for the real thing.
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    exported_to = []
    real_init = OTLPSpanExporter.__init__

    def spy_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        exported_to.append(self._endpoint)

    monkeypatch.setattr(OTLPSpanExporter, "__init__", spy_init)

    assert otel.configure_tracing("appkeeper-worker") is True
    assert otel.configure_tracing("appkeeper-worker") is True  # second call: no-op

    assert len(installed) == 1
    assert installed[0].resource.attributes["service.name"] == "appkeeper-worker"
    assert exported_to == ["http://127.0.0.1:4318/v1/traces"]
    assert CeleryInstrumentor().is_instrumented_by_opentelemetry
    otel.disable_tracing()
    assert not CeleryInstrumentor().is_instrumented_by_opentelemetry


def test_a_failing_setup_leaves_the_app_running_untraced(monkeypatch, settings):
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    def broken(self, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(PsycopgInstrumentor, "_instrument", broken)

    assert otel.configure_tracing(WEB, exporter=InMemorySpanExporter()) is False

    assert otel._provider is None
    assert not CeleryInstrumentor().is_instrumented_by_opentelemetry
    assert not any("opentelemetry" in m for m in settings.MIDDLEWARE)


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_request_produces_a_server_span(client, spans):
    response = client.get("/otel-probe/")

    assert response.status_code == 200
    server = only(spans.get_finished_spans(), "SERVER")
    assert server.attributes["http.status_code"] == 200
    assert server.resource.attributes["service.name"] == WEB


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_an_eager_task_runs_inside_the_request_trace(client, spans):
    """Eager mode publishes nothing, so there is no publish span and no header to carry
    the context; the run span joins the request's trace through the in-process context."""
    body = client.get("/otel-probe/").json()

    finished = spans.get_finished_spans()
    server = only(finished, "SERVER")
    run = only(finished, "CONSUMER", f"run/{PROBE_TASK}")
    assert hex_trace_id(run) == hex_trace_id(server)
    assert body["ran_under"] == hex_trace_id(server)


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_task_published_in_a_request_carries_its_trace_to_the_worker(
    client, spans, memory_broker
):
    """Publish for real, then run the message through the worker's own Request class
    (no worker process): the trace id survives the trip through the broker."""
    from celery.worker.request import Request

    body = client.get("/otel-probe/").json()
    message = memory_broker.get(no_ack=False)

    assert message is not None and message.headers["id"] == body["task_id"]
    server = only(spans.get_finished_spans(), "SERVER")
    publish = only(spans.get_finished_spans(), "PRODUCER", f"apply_async/{PROBE_TASK}")
    version, trace_id, parent_span_id, _flags = message.headers["traceparent"].split("-")
    assert trace_id == hex_trace_id(server) == hex_trace_id(publish)
    assert parent_span_id == format(publish.context.span_id, "016x")

    ran_under = Request(message, app=app, task=app.tasks[PROBE_TASK]).execute()

    run = only(spans.get_finished_spans(), "CONSUMER", f"run/{PROBE_TASK}")
    assert ran_under == hex_trace_id(server)
    assert run.parent.span_id == publish.context.span_id


@pytest.mark.postgres
@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_queries_on_postgresql_are_spans_inside_the_request(client, spans):
    if connection.vendor != "postgresql":
        pytest.skip(
            f"psycopg spans need PostgreSQL, this run uses {connection.vendor}: "
            "run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/appkeeper"
        )
    # psycopg is traced from connect() on: drop the connection opened before tracing.
    connection.close()

    client.get("/otel-probe/")

    finished = spans.get_finished_spans()
    server = only(finished, "SERVER")
    queries = [s for s in finished if s.attributes.get("db.system") == "postgresql"]
    assert queries, [(s.name, s.kind.name) for s in finished]
    assert all(q.kind.name == "CLIENT" for q in queries)
    assert any(q.parent and q.parent.span_id == server.context.span_id for q in queries)


@pytest.mark.parametrize(
    ("pool", "traced_at_worker_init"),
    [("prefork", False), ("threads", True), ("solo", True)],
)
def test_the_worker_starts_tracing_where_its_pool_runs_tasks(
    monkeypatch, pool, traced_at_worker_init
):
    """Prefork children start it in worker_process_init (after the fork); pools that run
    tasks in the worker process itself start it in worker_init. The handlers are called
    directly: sending the signals would also run Celery's Django fixup."""
    from types import SimpleNamespace

    import config.celery

    calls: list[str] = []
    monkeypatch.setattr(config.celery, "configure_tracing", calls.append)

    config.celery._trace_in_process_pool(sender=SimpleNamespace(pool_cls=pool))
    assert calls == (["appkeeper-worker"] if traced_at_worker_init else [])

    calls.clear()
    config.celery._trace_pool_process(sender="celery@test")
    assert calls == ["appkeeper-worker"]
