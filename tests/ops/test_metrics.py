"""/metrics: access rules, request metrics by route name, catalog gauges in fixed queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from catalog.models import Review
from core import metrics
from core.models import JobRun
from tests.factories import MicroAppFactory, TeamFactory

pytestmark = pytest.mark.django_db


def samples(body: str) -> dict[tuple, float]:
    out = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_loopback_client_may_scrape_when_no_token_is_set(client, settings):
    settings.APPKEEPER_METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"appkeeper_apps" in response.content


def test_remote_or_proxied_clients_are_refused_when_no_token_is_set(client, settings):
    settings.APPKEEPER_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 403


def test_a_configured_token_is_required_even_from_loopback(client, settings):
    settings.APPKEEPER_METRICS_TOKEN = "s3cret-scrape-token"
    missing = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", REMOTE_ADDR="10.0.0.1")
    assert wrong.status_code == 401
    right = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", REMOTE_ADDR="10.0.0.1"
    )
    assert right.status_code == 200


def test_request_metrics_are_labelled_by_route_name_not_path(client, settings, alice):
    settings.APPKEEPER_METRICS_TOKEN = ""
    client.force_login(alice)
    client.get("/api/v1/apps/no-such-app/")
    client.get("/api/v1/apps/another-missing-app/")
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    values = samples(body)
    key = (
        "appkeeper_http_requests_total",
        (("method", "GET"), ("status", "404"), ("view", "api:app-detail")),
    )
    assert values[key] >= 2
    assert "no-such-app" not in body


def test_catalog_gauges_count_the_fleet(client, settings, regions):
    settings.APPKEEPER_METRICS_TOKEN = ""
    now = timezone.now()
    team = TeamFactory(slug="support-tools")
    MicroAppFactory(
        team=team,
        state="active",
        expires_at=now + timedelta(days=5),
        last_seen_at=now,
        regions=[regions["eu-central"]],
    )
    MicroAppFactory(
        team=team,
        state="active",
        expires_at=now + timedelta(days=20),
        last_seen_at=now - timedelta(days=3),
    )
    MicroAppFactory(team=team, state="draft", regions=[regions["eu-central"]])
    stale_review_app = MicroAppFactory(team=team, state="in_review")
    Review.objects.create(app=stale_review_app, due_at=now - timedelta(hours=1))
    JobRun.objects.create(task="lifecycle.expire_apps", outcome="success", finished_at=now)

    values = samples(client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode())

    def gauge(name, **labels):
        return values[(name, tuple(sorted(labels.items())))]

    assert gauge("appkeeper_apps", team="support-tools", state="active") == 2
    assert gauge("appkeeper_apps", team="support-tools", state="draft") == 1
    assert gauge("appkeeper_apps_by_region", region="eu-central") == 2
    assert gauge("appkeeper_apps_expiring", team="support-tools", within_days="7") == 1
    assert gauge("appkeeper_apps_expiring", team="support-tools", within_days="30") == 2
    assert gauge("appkeeper_apps_telemetry_stale", team="support-tools") == 1
    assert gauge("appkeeper_reviews_overdue", team="support-tools") == 1
    assert gauge("appkeeper_apps_orphaned", team="support-tools") == 0
    assert gauge(
        "appkeeper_job_last_success_timestamp_seconds", task="lifecycle.expire_apps"
    ) == pytest.approx(now.timestamp())


def _collect_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        list(metrics.RegisteredGauges().collect())
    return len(queries)


def test_gauges_take_a_fixed_number_of_queries(regions):
    teams = [TeamFactory() for _ in range(3)]
    for team in teams:
        MicroAppFactory(team=team, state="active", regions=[regions["us-east"]])
    small = _collect_queries()
    for team in teams * 5:
        MicroAppFactory(team=team, state="expired", regions=[regions["uk-south"]])
    for index in range(4):
        JobRun.objects.create(task=f"task.{index}", outcome="success")
    assert _collect_queries() == small


def test_orphaned_apps_are_counted_per_team_without_retired_ones(client, settings):
    settings.APPKEEPER_METRICS_TOKEN = ""
    now = timezone.now()
    team, quiet = TeamFactory(slug="support-tools"), TeamFactory(slug="quiet")
    MicroAppFactory(team=team, state="active", orphaned_at=now)
    MicroAppFactory(team=team, state="draft", orphaned_at=now)
    MicroAppFactory(team=team, state="retired", orphaned_at=now)
    MicroAppFactory(team=quiet, state="active")

    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()

    assert "# TYPE appkeeper_apps_orphaned gauge" in body
    assert 'appkeeper_apps_orphaned{team="support-tools"} 2.0' in body
    assert 'appkeeper_apps_orphaned{team="quiet"} 0.0' in body


def test_other_apps_can_register_gauges(client, settings):
    settings.APPKEEPER_METRICS_TOKEN = ""
    metrics.register_gauge(
        metrics.GaugeSource(
            name="appkeeper_test_widgets",
            documentation="Widgets, for the test.",
            labels=("colour",),
            collect=lambda: [(("blue",), 3)],
        )
    )
    try:
        body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    finally:
        metrics.EXTRA_GAUGES.pop("appkeeper_test_widgets")
    assert 'appkeeper_test_widgets{colour="blue"} 3.0' in body
