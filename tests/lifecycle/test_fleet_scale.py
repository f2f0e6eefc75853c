"""Lifecycle details that keep it right at fleet scale: the telemetry fast path, the
sunset-case fields in the API schema, the beat schedule, and the Renew button on My apps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lifecycle.choices import SunsetReason
from lifecycle.models import SunsetCase, TelemetryDelivery
from tests.lifecycle.conftest import body_of, live_app, report, sign

pytestmark = pytest.mark.django_db
URL = "/api/v1/telemetry/"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL-only statement"
)


def post(client, body: bytes, **kw):
    return client.post(URL, data=body, content_type="application/json", **sign(body, **kw))


# --- telemetry fast path ---------------------------------------------------------------------


def test_other_methods_keep_drfs_json_405(app):
    response = Client().get(URL)
    assert response.status_code == 405
    assert response.json()["detail"]


def test_a_throttled_call_gets_drfs_429_with_retry_after(app, monkeypatch):
    from lifecycle.api.throttles import WindowRateThrottle

    monkeypatch.setattr(WindowRateThrottle, "THROTTLE_RATES", {"telemetry": "1/min"})
    from django.core.cache import cache

    cache.clear()
    client = Client()
    assert post(client, body_of(), msg_id="a").status_code == 202
    response = post(client, body_of(), msg_id="b")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Request was throttled. Expected available in")
    assert int(response["Retry-After"]) >= 0
    cache.clear()


def test_the_schema_still_documents_the_telemetry_operation(api_as, alice):
    schema = api_as(alice).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/telemetry/"]["post"]
    assert operation["operationId"] == "telemetry_ingest"
    assert {"202", "401", "422"} <= operation["responses"].keys()
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= headers


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_its_own_the_write_commits_asynchronously_in_one_statement(app):
    """Outside a caller's transaction the CTE turns synchronous_commit off for itself only."""
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        assert post(client, body_of(reports=[report()]), msg_id="async").status_code == 202
    writes = [
        q["sql"] for q in queries.captured_queries if "lifecycle_telemetrydelivery" in q["sql"]
    ]
    assert len(writes) == 1 and "set_config('synchronous_commit', 'off', true)" in writes[0]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # not left behind on the connection
    assert TelemetryDelivery.objects.filter(webhook_id="async").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_a_dead_reused_connection_is_replaced_without_a_health_check_query(app, cache):
    """The request's first statement doubles as the health check: no SELECT 1, and a
    connection that died between requests is closed and then the credentials read retried
    once (cold cache) or, when the first statement was the write on cached credentials
    (warm), the call answered from a fresh read on a new connection."""
    from django.core.signals import request_started

    from lifecycle import services

    client = Client()
    assert post(client, body_of(), msg_id="first").status_code == 202
    if cache == "cold":
        services.clear_credentials_cache()
    else:
        assert services.telemetry_cached_credentials(app.slug) is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection._nodb_cursor() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    request_started.send(sender=None)  # as a new request would: health check pending
    assert connection.connection is not None and not connection.health_check_done
    assert post(client, body_of(), msg_id="second").status_code == 202
    assert TelemetryDelivery.objects.filter(webhook_id="second").count() == 1


def _prepared_writes() -> dict[str, int]:
    """The connection's prepared telemetry writes: statement -> times executed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'WITH seen AS%%'"
        )
        return dict(cursor.fetchall())


@postgres_only
def test_the_write_on_cached_credentials_is_prepared_once_per_connection(app):
    """Planning the three-CTE write was most of its server time: it is prepared, and the
    next calls on the connection execute the prepared statement. (The connection outlives
    this test, so earlier tests' executions are subtracted.)"""
    before = _prepared_writes()
    client = Client()
    for number in range(4):
        body = body_of(reports=[report(requests=number + 1)])
        assert post(client, body, msg_id=f"prepared-{number}").status_code == 202

    after = _prepared_writes()
    runs = {sql: count - before.get(sql, 0) for sql, count in after.items()}
    # The first call read the credentials; the other three ran one prepared statement.
    assert max(runs.values()) == sum(runs.values()) == 3, runs
    assert TelemetryDelivery.objects.filter(webhook_id__startswith="prepared-").count() == 4
    # Django's own cursors are left as they were: never prepared.
    assert connection.connection.prepare_threshold is None


@postgres_only
def test_prepared_statements_can_be_turned_off_for_poolers(app, settings):
    settings.APPKEEPER_DB_PREPARED_STATEMENTS = False
    before = _prepared_writes()
    client = Client()
    for number in range(3):
        assert post(client, body_of(), msg_id=f"unprepared-{number}").status_code == 202

    assert _prepared_writes() == before
    assert TelemetryDelivery.objects.filter(webhook_id__startswith="unprepared-").count() == 3


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_under_tracing_the_write_keeps_its_span_and_is_not_prepared(app):
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from config import otel

    exporter = InMemorySpanExporter()
    assert otel.configure_tracing("appkeeper-web", exporter=exporter) is True
    try:
        connection.close()  # psycopg is traced from connect() on
        before = _prepared_writes()
        client = Client()
        for number in range(3):
            assert post(client, body_of(), msg_id=f"traced-{number}").status_code == 202
        statements = [
            span.attributes.get("db.statement", "")
            for span in exporter.get_finished_spans()
            if span.attributes.get("db.system") == "postgresql"
        ]
        assert _prepared_writes() == before
    finally:
        otel.disable_tracing()
        connection.close()
    # The cold call's write and the two on cached credentials, each its own span.
    assert sum("lifecycle_telemetrydelivery" in sql for sql in statements) == 3, statements


# --- sunset cases: the schema says what the API returns ---------------------------------------


@pytest.fixture
def open_case(app):
    app.state = "sunsetting"
    app.save()
    return SunsetCase.objects.create(
        app=app, reason=SunsetReason.LOW_USAGE, grace_ends_at=timezone.now() + timedelta(days=14)
    )


def test_an_open_case_answers_null_users_and_blank_choices(api_as, alice, open_case):
    for url in ("/api/v1/sunset-cases/", f"/api/v1/sunset-cases/{open_case.pk}/"):
        data = api_as(alice).get(url).json()
        row = data["results"][0] if "results" in data else data
        assert row["responded_by"] is None and row["decided_by"] is None
        assert row["response"] == row["decision"] == row["outcome"] == ""


def test_the_schema_declares_them_nullable_or_blank(api_as, alice):
    schema = api_as(alice).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    props = schema["components"]["schemas"]["SunsetCase"]["properties"]
    assert props["responded_by"]["nullable"] and props["decided_by"]["nullable"]
    for name in ("response", "decision", "outcome"):
        refs = {r["$ref"].rsplit("/", 1)[1] for r in props[name]["oneOf"]}
        assert "BlankEnum" in refs, name
    assert any(r.endswith("/SunsetDecisionEnum") for r in str(props["decision"]).split("'"))


# --- beat and the My apps page --------------------------------------------------------------


def test_telemetry_deliveries_are_pruned_daily():
    from celery.schedules import crontab

    from config.celery import app as celery_app

    entry = next(
        e for e in celery_app.conf.beat_schedule.values()
        if e["task"] == "lifecycle.prune_telemetry_deliveries"
    )  # fmt: skip
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {7} and entry["schedule"].minute == {0}


def test_my_apps_offers_renew_inside_the_window_only(client, alice, support_tools):
    due = live_app(team=support_tools, owner=alice, name="Due Soon", slug="due-soon", days_left=5)
    live_app(team=support_tools, owner=alice, name="Far Off", slug="far-off", days_left=80)
    client.force_login(alice)
    body = client.get(reverse("my-apps")).content.decode()
    renew = reverse("lifecycle:app-renew", args=[due.slug])
    assert f'href="{renew}"' in body
    assert reverse("lifecycle:app-renew", args=["far-off"]) not in body
