"""Helpers for the lifecycle tests: live apps, signed telemetry, frozen time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.choices import AppState
from lifecycle import telemetry
from tests.factories import MicroAppFactory

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture(autouse=True)
def _fresh_region_cache():
    telemetry.clear_region_cache()
    yield
    telemetry.clear_region_cache()


def live_app(*, days_left: float = 90, went_live_days_ago: float = 0, now=None, **kwargs):
    """An active app that went live ``went_live_days_ago`` and expires in ``days_left``."""
    now = now or timezone.now()
    kwargs.setdefault("state", AppState.ACTIVE)
    return MicroAppFactory(
        went_live_at=now - timedelta(days=went_live_days_ago),
        expires_at=now + timedelta(days=days_left),
        **kwargs,
    )


@pytest.fixture
def app(alice, support_tools, regions):
    return live_app(
        team=support_tools,
        owner=alice,
        slug="ticket-router",
        name="Ticket Router",
        ingestion_secret=SECRET,
    )


def sign(body: bytes, *, secret: str = SECRET, msg_id: str = "msg_1", timestamp=None) -> dict:
    """Standard Webhooks headers for ``body`` as Django test-client extra kwargs."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": timestamp,
        "HTTP_WEBHOOK_SIGNATURE": "v1," + base64.b64encode(mac).decode(),
    }


def body_of(app_slug: str = "ticket-router", reports=None, **extra) -> bytes:
    return json.dumps({"app": app_slug, "reports": reports or [], **extra}).encode()


def report(day=None, region: str = "eu-central", requests: int = 1200, **extra) -> dict:
    day = day or timezone.now().date()
    return {
        "date": day.isoformat(),
        "region": region,
        "requests": requests,
        "errors": 3,
        "p95_ms": 180.5,
        "cost": "4.20",
        **extra,
    }
