"""Structured logs: one access line per request with request id, user and app slug."""

from __future__ import annotations

import json
import logging

import pytest

from core.logs import JsonFormatter
from core.middleware import RequestIdLogFilter
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db


def test_each_request_writes_one_access_line_with_user_and_app(client, alice, caplog):
    app = MicroAppFactory(slug="ticket-router", team__slug="support-tools", owner=alice)
    client.force_login(alice)
    with caplog.at_level(logging.INFO, logger="appkeeper.access"):
        client.get(f"/api/v1/apps/{app.slug}/", HTTP_X_REQUEST_ID="req-123")
    lines = [r for r in caplog.records if r.name == "appkeeper.access"]
    assert len(lines) == 1
    record = lines[0]
    assert record.status == 200
    assert record.user == "alice"
    assert record.app == "ticket-router"
    assert record.view == "api:app-detail"
    RequestIdLogFilter().filter(record)
    payload = json.loads(JsonFormatter().format(record))
    assert payload["request_id"] == "req-123"
    assert payload["user"] == "alice"
    assert payload["app"] == "ticket-router"
    assert payload["status"] == 200
    assert payload["message"].startswith("GET /api/v1/apps/ticket-router/ 200")


def test_log_lines_inside_a_request_carry_its_context(client, alice, caplog, monkeypatch):
    app = MicroAppFactory(slug="crm-sync", owner=alice)
    seen = {}

    from catalog.api import views

    original = views.MicroAppViewSet.retrieve

    def retrieve(self, request, *args, **kwargs):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "inside", None, None)
        RequestIdLogFilter().filter(record)
        seen.update(user=record.user, app=record.app, request_id=record.request_id)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(views.MicroAppViewSet, "retrieve", retrieve)
    client.force_login(alice)
    client.get(f"/api/v1/apps/{app.slug}/", HTTP_X_REQUEST_ID="req-9")
    assert seen == {"user": "alice", "app": "crm-sync", "request_id": "req-9"}
    # ...and nothing leaks into the next record outside a request.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "outside", None, None)
    RequestIdLogFilter().filter(record)
    assert (record.user, record.app, record.request_id) == ("", "", "-")


def test_production_logging_uses_the_json_formatter():
    import subprocess
    import sys

    code = (
        "import django, logging; django.setup(); from django.conf import settings; "
        "print(settings.LOGGING['handlers']['console']['formatter'])"
    )
    import os
    import secrets

    env = {
        **os.environ,
        "APPKEEPER_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "a.example.com",
        "DATABASE_URL": "postgres://u@127.0.0.1/db",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "json", out.stderr
