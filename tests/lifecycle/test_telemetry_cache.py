"""Telemetry's per-process credentials cache: one round trip per accepted call on
PostgreSQL, and never an answer the cache made different.

On SQLite there is no cache (every call reads the credentials), so the behaviour tests
below still hold there; on PostgreSQL each one first checks that the cache really is warm.
The PostgreSQL-only tests (query count, TTL, a concurrent twin) skip on SQLite with the
reason, except under ``CI=true`` outside CI's SQLite pass, where a skip would hide a gap:
they fail (``tests.conftest.require_postgres``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import MicroApp
from lifecycle import services
from lifecycle.models import TelemetryDelivery, UsageReport
from tests.conftest import require_postgres as shared_require_postgres
from tests.lifecycle.conftest import SECRET, body_of, live_app, report, sign

pytestmark = pytest.mark.django_db
URL = "/api/v1/telemetry/"
OTHER_SECRET = "whsec_" + "Q" * 43 + "="


def require_postgres() -> None:
    shared_require_postgres(
        "needs PostgreSQL (the cache backs its single write statement): set "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/appkeeper_lifecycle"
    )


@pytest.fixture
def client():
    return Client()


def post(client, body: bytes, **kw):
    return client.post(URL, data=body, content_type="application/json", **sign(body, **kw))


def warm(client, slug: str = "ticket-router", secret: str = SECRET, msg_id: str = "warm"):
    """One accepted call, which leaves ``slug``'s credentials cached (on PostgreSQL)."""
    assert post(client, body_of(slug), secret=secret, msg_id=msg_id).status_code == 202
    cached = services.telemetry_cached_credentials(slug)
    if connection.vendor == "postgresql":
        assert cached is not None and secret in cached.keys
    else:
        assert cached is None  # SQLite: no cache, nothing to go stale
    return cached


def test_a_warm_cache_still_stores_reports_and_replays_by_webhook_id(client, app):
    warm(client)
    today = timezone.now().date()
    reports = [report(), report(region="us-east", p95_ms=None, cost=None),
               report(today - timedelta(days=1), requests=0, errors=0)]  # fmt: skip
    body = body_of(reports=reports)
    first = post(client, body, msg_id="m")
    assert first.status_code == 202 and first.json()["accepted"] == 3
    rows = {(r.region.code, r.date): r for r in UsageReport.objects.select_related("region")}
    assert rows["us-east", today].p95_ms is None and rows["us-east", today].cost == 0
    assert rows["eu-central", today].requests == 1200
    again = post(client, body, msg_id="m")
    assert again.status_code == 202 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    other = post(client, body_of(reports=[report(requests=1)]), msg_id="m")
    assert other.status_code == 422
    assert TelemetryDelivery.objects.filter(webhook_id="m").count() == 1
    assert UsageReport.objects.count() == 3
    invalid = post(client, body_of(reports=[report(region="mars")]), msg_id="bad")
    assert invalid.status_code == 400 and invalid.json()["errors"][0]["index"] == 0


def test_a_rotated_secret_works_at_once_with_a_warm_cache(client, app, alice):
    warm(client)
    new = services.app_rotate_secret(app=app, actor=alice)
    assert post(client, body_of(), secret=new, msg_id="new-1").status_code == 202
    assert post(client, body_of(), msg_id="old-1").status_code == 202  # 24 h of grace
    assert post(client, body_of(), secret=new, msg_id="new-2").status_code == 202
    assert TelemetryDelivery.objects.filter(webhook_id__in=["new-1", "old-1", "new-2"]).count() == 3


def test_a_second_rotation_refuses_the_first_secret_at_once_with_a_warm_cache(client, app, alice):
    new = services.app_rotate_secret(app=app, actor=alice)
    cached = warm(client, msg_id="old-ok")  # SECRET is the previous one, still valid
    assert cached is None or set(cached.keys) == {new, SECRET}
    services.app_rotate_secret(app=MicroApp.objects.get(pk=app.pk), actor=alice)
    response = post(client, body_of(), msg_id="old-refused")
    assert response.status_code == 401
    assert not TelemetryDelivery.objects.filter(webhook_id="old-refused").exists()


def test_a_retirement_is_seen_at_once_with_a_warm_cache(client, app):
    warm(client)
    app.refresh_from_db()
    seen = app.last_seen_at
    # As another process would: no signal, no cache invalidation in this one.
    MicroApp.objects.filter(pk=app.pk).update(state=AppState.RETIRED)
    # Invalid reports too: a retired app gets 410 before its reports are looked at.
    for msg_id, reports in (("r1", [report()]), ("r2", [report(region="mars")]), ("r3", [])):
        response = post(client, body_of(reports=reports), msg_id=msg_id)
        assert response.status_code == 410, (msg_id, response.content)
    assert TelemetryDelivery.objects.count() == 1 and not UsageReport.objects.exists()
    app.refresh_from_db()
    assert app.last_seen_at == seen


def test_the_previous_secret_is_refused_after_its_validity_with_a_warm_cache(client, app, alice):
    new = services.app_rotate_secret(app=app, actor=alice)
    cached = warm(client, msg_id="old-ok")
    assert cached is None or SECRET in cached.keys
    # Its 24 hours end while the cache still offers it.
    MicroApp.objects.filter(pk=app.pk).update(
        previous_secret_valid_until=timezone.now() - timedelta(seconds=1)
    )
    response = post(client, body_of(reports=[report()]), msg_id="old-late")
    assert response.status_code == 401
    assert response["WWW-Authenticate"]
    assert not TelemetryDelivery.objects.filter(webhook_id="old-late").exists()
    assert not UsageReport.objects.exists()
    assert post(client, body_of(), secret=new, msg_id="new").status_code == 202


def test_the_cache_never_serves_another_apps_secret(client, app, alice, support_tools):
    other = live_app(team=support_tools, owner=alice, slug="other", ingestion_secret=OTHER_SECRET)
    warm(client)
    warm(client, "other", OTHER_SECRET, msg_id="warm-other")
    assert post(client, body_of("other"), msg_id="x1").status_code == 401  # SECRET
    assert post(client, body_of(), secret=OTHER_SECRET, msg_id="x2").status_code == 401
    # The slug moves to a new app with its own secret while the old app's is cached.
    MicroApp.objects.filter(pk=app.pk).update(slug="ticket-router-old")
    MicroApp.objects.filter(pk=other.pk).update(slug="ticket-router")
    response = post(client, body_of(reports=[report()]), msg_id="x3")  # the old app's secret
    assert response.status_code == 401
    assert not TelemetryDelivery.objects.filter(webhook_id__startswith="x").exists()
    assert not UsageReport.objects.exists()
    accepted = post(client, body_of(reports=[report()]), secret=OTHER_SECRET, msg_id="x4")
    assert accepted.status_code == 202
    assert TelemetryDelivery.objects.get(webhook_id="x4").app_id == other.pk
    assert UsageReport.objects.get().app_id == other.pk


@pytest.mark.postgres
def test_an_entry_expires_after_its_ttl(app, monkeypatch):
    require_postgres()
    warm(Client())
    monkeypatch.setattr("lifecycle.services.telemetry.CREDENTIALS_CACHE_SECONDS", 0.0)
    assert services.telemetry_cached_credentials("ticket-router") is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_accepted_call_is_one_query_with_a_warm_cache(app, django_assert_num_queries):
    """On its own (no caller's transaction, as under gunicorn), with the credentials and
    regions cached: the single write statement, nothing else."""
    require_postgres()
    client = Client()
    warm(client)  # credentials and, with a report, the region cache
    assert post(client, body_of(reports=[report()]), msg_id="regions").status_code == 202
    days = [timezone.now().date() - timedelta(days=i) for i in range(50)]
    calls = [("heartbeat", []), ("one", [report()]), ("many", [report(d) for d in days])]
    for msg_id, reports in calls:
        with django_assert_num_queries(1) as captured:
            assert post(client, body_of(reports=reports), msg_id=msg_id).status_code == 202
        assert "lifecycle_telemetrydelivery" in captured.captured_queries[0]["sql"]
    assert UsageReport.objects.count() == 50
    assert TelemetryDelivery.objects.count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_identical_deliveries_on_a_warm_cache_are_stored_once(app):
    """The first claims the app row; the second waits, re-checks the row, hits the unique
    webhook id and replays the first one's answer."""
    require_postgres()
    from tests.lifecycle.test_concurrency import twice_at_once

    warm(Client())
    body = body_of(reports=[report()])
    headers = sign(body, msg_id="twin")

    def deliver():
        response = Client().post(URL, data=body, content_type="application/json", **headers)
        return response.status_code, response.json()

    results, errors = twice_at_once(deliver)
    assert errors == []
    assert results[0] == results[1] and results[0][0] == 202
    assert TelemetryDelivery.objects.filter(webhook_id="twin").count() == 1
    assert UsageReport.objects.count() == 1
