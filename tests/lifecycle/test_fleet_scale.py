"""Lifecycle details that keep it right at fleet scale: the telemetry endpoint's lean
dispatch, the sunset-case fields in the API schema, the beat schedule, and the Renew button
on My apps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lifecycle.choices import SunsetReason
from lifecycle.models import SunsetCase, TelemetryDelivery
from tests.conftest import require_postgres
from tests.lifecycle.conftest import body_of, live_app, report, sign

pytestmark = pytest.mark.django_db
URL = "/api/v1/telemetry/"


def post(client, body: bytes, **kw):
    return client.post(URL, data=body, content_type="application/json", **sign(body, **kw))


# --- telemetry's lean dispatch and its connection ---------------------------------------


def test_other_methods_keep_drfs_json_405(app):
    response = Client().get(URL)
    assert response.status_code == 405
    assert response.json()["detail"]


def test_a_throttled_call_gets_drfs_429_with_retry_after(app, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"telemetry": "1/min", "sensitive": "60/min"},
    }
    from django.core.cache import cache

    cache.clear()
    client = Client()
    assert post(client, body_of(), msg_id="a").status_code == 202
    response = post(client, body_of(), msg_id="b")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Request was throttled. Expected available in")
    assert int(response["Retry-After"]) >= 0
    cache.clear()


def _one_telemetry_call_a_minute(settings, **overrides):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"telemetry": "1/min", "sensitive": "60/min"},
        **overrides,
    }


def _post_from(client, msg_id: str, **meta):
    body = body_of()
    return client.post(
        URL, data=body, content_type="application/json", **sign(body, msg_id=msg_id), **meta
    )


def test_a_fresh_x_forwarded_for_does_not_escape_the_throttle(app, settings):
    # As configured by default: no trusted proxy, so the header is the sender's own claim.
    _one_telemetry_call_a_minute(settings)
    client = Client()
    assert _post_from(client, "a", HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 202
    assert _post_from(client, "b", HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429


def test_behind_a_trusted_proxy_the_throttle_counts_the_right_most_forwarded_entry(app, settings):
    settings.APPKEEPER_TRUSTED_PROXIES = 1
    _one_telemetry_call_a_minute(settings, NUM_PROXIES=1)
    client = Client()
    hop = {"REMOTE_ADDR": "10.0.0.1"}  # the proxy
    assert _post_from(client, "a", HTTP_X_FORWARDED_FOR="203.0.113.1", **hop).status_code == 202
    assert _post_from(client, "b", HTTP_X_FORWARDED_FOR="203.0.113.2", **hop).status_code == 202
    # The left entry is the sender's own claim; the proxy appended the address it saw.
    spoofed = _post_from(client, "c", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.1", **hop)
    assert spoofed.status_code == 429


def test_the_throttles_and_the_sign_in_limit_share_the_proxy_setting(settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.APPKEEPER_TRUSTED_PROXIES


def test_the_schema_still_documents_the_telemetry_operation(api_as, alice):
    schema = api_as(alice).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/telemetry/"]["post"]
    assert operation["operationId"] == "telemetry_ingest"
    assert {"202", "401", "422"} <= operation["responses"].keys()
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= headers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_that_died_between_requests_is_replaced(app):
    """Connections outlive requests (CONN_MAX_AGE); Django's health check at the start of
    the next request (CONN_HEALTH_CHECKS) replaces one that died, so the call is answered."""
    require_postgres("needs PostgreSQL (a server-side connection to terminate)")
    import psycopg
    from django.db import close_old_connections

    client = Client()
    assert post(client, body_of(), msg_id="first").status_code == 202
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "host": db["HOST"],
        "port": db["PORT"] or None,
    }
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    close_old_connections()  # what the next request's start does under a real server
    assert post(client, body_of(reports=[report()]), msg_id="second").status_code == 202
    assert TelemetryDelivery.objects.filter(webhook_id="second").count() == 1


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
        e
        for e in celery_app.conf.beat_schedule.values()
        if e["task"] == "lifecycle.prune_telemetry_deliveries"
    )
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
