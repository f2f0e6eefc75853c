"""With Redis down (cache and broker, as docker-compose configures them) the site keeps
working: sign-in, signed telemetry, rotating a secret and renewing answer as usual, the
limits fail open, and every skipped cache call is counted and logged, once a minute."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from catalog.models import Notification
from scorecards import scoring
from scorecards.periods import current_quarter
from tests.factories import PASSWORD
from tests.lifecycle.conftest import body_of, report, sign
from tests.redis_down import cache_errors, enqueue_errors, redis_down  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_down")]
URL = "/api/v1/telemetry/"
WHY = "Still routes every support ticket we get."


def warnings_about(caplog, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "core.resilience" and r.levelno == logging.WARNING and text in r.getMessage()
    ]


def test_sign_in_works_and_the_limiter_fails_open(client, alice, settings, caplog):
    settings.APPKEEPER_LOGIN_MAX_ATTEMPTS = 2
    records, clears = cache_errors("login_record"), cache_errors("login_clear")
    caplog.set_level(logging.WARNING, logger="core.resilience")
    for _ in range(4):  # past the limit: nothing is counted, so nothing is refused
        response = client.post("/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    # Each attempt is counted for the account and for the address before the password is
    # checked; the success gives the address's count back and clears the account's.
    assert cache_errors("login_record") - records == 10
    assert cache_errors("login_clear") - clears == 1
    # One line per operation, however many requests failed.
    [line] = warnings_about(caplog, "during login_record")
    assert "ConnectionError" in line and "going on without it" in line
    assert len(warnings_about(caplog, "during login_clear")) == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        client.post("/login/", {"username": "alice", "password": "wrong"})
    later = warnings_about(caplog, "during login_record")
    assert len(later) == 2 and "(9 earlier failures not logged)" in later[1]


def test_signed_telemetry_is_accepted(app):
    before = cache_errors("api_throttle")
    body = body_of(reports=[report()])
    response = Client().post(URL, data=body, content_type="application/json", **sign(body))
    assert response.status_code == 202, response.content
    assert response.json()["accepted"] == 1
    assert cache_errors("api_throttle") == before + 1


def test_rotating_the_secret_works_through_the_api_and_the_page(app, alice, api_as, client):
    before = cache_errors("api_throttle")
    response = api_as(alice).post(f"/api/v1/apps/{app.slug}/rotate-secret/")
    assert response.status_code == 200, response.content
    assert response.json()["secret"].startswith("whsec_")
    assert cache_errors("api_throttle") == before + 1

    client.force_login(alice)
    page = client.post(f"/apps/{app.slug}/rotate-secret/")
    assert page.status_code == 200 and b"whsec_" in page.content


def test_a_renewal_still_queues_its_notification_in_the_outbox(
    app, alice, api_as, caplog, django_capture_on_commit_callbacks
):
    app.expires_at = timezone.now() + timedelta(days=10)
    app.save()
    before = enqueue_errors("catalog.send_notifications")
    caplog.set_level(logging.WARNING, logger="core.resilience")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        started = time.perf_counter()
        response = api_as(alice).post(
            f"/api/v1/apps/{app.slug}/renew/", {"justification": WHY}, format="json"
        )
        elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.content
    assert len(callbacks) == 1  # the nudge to the worker was tried ...
    assert enqueue_errors("catalog.send_notifications") == before + 1  # ... and failed
    assert elapsed < 1.5  # tried once, not through Celery's reconnect loop
    [line] = warnings_about(caplog, "Could not enqueue catalog.send_notifications")
    assert "beat will run it" in line
    # The notification waits in the outbox for the every-minute beat.
    queued = Notification.objects.filter(kind="app_renewed", sent_at__isnull=True)
    assert queued.filter(recipient=alice).exists()


def test_the_app_page_scores_without_the_cached_fleet_curve(app, alice, client):
    before = cache_errors("scorecard_curve")
    client.force_login(alice)
    assert client.get(app.get_absolute_url()).status_code == 200
    assert cache_errors("scorecard_curve") == before + 2  # the read, then the write
    assert scoring.cached_fleet_cost_curve(current_quarter(), timezone.localdate()) == []


def test_the_operations_page_shows_the_queue_depth_as_unknown(pat, client):
    client.force_login(pat)
    response = client.get("/ops/")
    assert response.status_code == 200
    assert response.context["queue_depth"] is None
