"""Slack on a local receiver, and interactions signed the way Slack documents it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from tests.messaging.slack_receiver import TOKEN, slack_receiver

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
URL = "/integrations/slack/interactions/"


@pytest.fixture
def slack(settings):
    with slack_receiver() as receiver:
        settings.SLACK_API_BASE_URL = receiver.api_base
        settings.SLACK_BOT_TOKEN = TOKEN
        settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
        yield receiver


def form_body(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed_headers(body: bytes, *, secret: str = SIGNING_SECRET, timestamp=None) -> dict:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` (Slack's "Verifying requests
    from Slack"), as Django test-client extras."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp,
        "HTTP_X_SLACK_SIGNATURE": f"v0={digest}",
    }


def post_signed(client, body: bytes, headers: dict):
    assert reverse("messaging:slack-interactions") == URL
    return client.post(URL, data=body, content_type="application/x-www-form-urlencoded", **headers)


@pytest.fixture
def interact(client):
    """Send one signed interaction payload; returns the response."""

    def send(payload: dict, **sign):
        body = form_body(payload)
        return post_signed(client, body, signed_headers(body, **sign))

    return send
