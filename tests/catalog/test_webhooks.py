"""Outgoing team webhooks are signed by the standardwebhooks library, with the same
signatures as before for both kinds of team secret, and secrets have one format."""

from __future__ import annotations

import base64
import json

import pytest
from standardwebhooks import Webhook

from catalog import notifications
from catalog.choices import NotificationChannel
from catalog.models import Notification
from core.webhooks import SECRET_PREFIX, new_secret
from tests.factories import TeamFactory

BODY = b'{"type":"appkeeper.test","data":{"app":"ticket-router"}}'


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        # Known answers of HMAC-SHA256 over "id.timestamp.body": a whsec_ secret is the
        # base64 of its key, a plain team secret's UTF-8 bytes are the key.
        (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "v1,7+axe+eqNfQEUcpvZ5zydxpW49KIL7RUSbD92cxdYXY=",
        ),
        ("a plain shared secret, ünïcode", "v1,0jKKNQc2vepM6kV3Lbf0HGnxWqkKdH/vjip6WrhzDfY="),
    ],
    ids=["whsec", "plain"],
)
def test_signatures_are_unchanged_for_both_kinds_of_secret(secret, expected):
    assert notifications.sign_webhook(secret, "msg_appkeeper_7", 1767225600, BODY) == expected


@pytest.mark.django_db
def test_a_plain_team_secret_signs_a_request_its_receiver_verifies():
    team = TeamFactory(webhook_url="https://hooks.example.com/x", webhook_secret="s3cret-team")
    note = Notification.objects.create(
        team=team,
        channel=NotificationChannel.WEBHOOK,
        kind="t",
        subject="s",
        body="b",
        dedupe_key="w1",
    )
    url, body, headers = notifications.webhook_request(note)
    assert url == "https://hooks.example.com/x"
    assert json.loads(body)["data"]["team"] == team.slug
    assert headers["webhook-signature"].startswith("v1,")
    # What a receiver configured with the same plain secret runs (the library wants base64).
    receiver = Webhook(base64.b64encode(b"s3cret-team").decode())
    receiver.verify(body, {k.lower(): v for k, v in headers.items()})


def test_new_secrets_are_standard_webhooks_secrets():
    first, second = new_secret(), new_secret()
    assert first != second and first.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(first.removeprefix(SECRET_PREFIX))) == 32
    Webhook(first)  # the library accepts it as is
