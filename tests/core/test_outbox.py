"""Core's sender against a real HTTP receiver on loopback: what it POSTs, how it signs,
and how a refusal or an undeliverable message comes back."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from core import outbox
from core.webhooks import new_secret


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]] = []
    status = 204

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers.items()), body))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    Receiver.status = 204
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Receiver
    server.shutdown()
    server.server_close()


def signed(url: str, secret: str, msg_id: str, payload: dict) -> outbox.WebhookPost:
    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": outbox.sign_webhook(secret, msg_id, timestamp, body),
    }
    return outbox.WebhookPost(url, body, headers)


def test_a_webhook_arrives_signed_so_the_receiver_can_verify_it(receiver):
    url, handler = receiver
    secret = new_secret()
    message = outbox.Message(key=1, webhook=signed(f"{url}/hooks", secret, "msg_1", {"a": 1}))
    outcome = outbox.deliver([message])
    assert outcome.delivered == [1] and not outcome.failed
    [(path, headers, body)] = handler.received
    assert path == "/hooks" and json.loads(body) == {"a": 1}
    # The receiver's side of the scheme, checked with the library's own verification.
    scheme_headers = {k: v for k, v in headers.items() if k.lower().startswith("webhook-")}
    Webhook(secret).verify(body, scheme_headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, scheme_headers)


def test_a_refusing_receiver_is_a_failure_to_retry_and_the_batch_goes_on(receiver):
    url, handler = receiver
    handler.status = 500
    secret = new_secret()
    outcome = outbox.deliver(
        [
            outbox.Message(key=1, webhook=signed(url, secret, "msg_1", {})),
            outbox.Message(key=2, undeliverable="No email address for this recipient."),
            outbox.Message(key=3, email=EmailMessage("s", "b", to=["a@example.com"])),
        ]
    )
    assert outcome.failed == {1: "HTTPError: HTTP Error 500: Internal Server Error"}
    assert outcome.undeliverable == {2: "No email address for this recipient."}
    assert outcome.delivered == [3] and len(mail.outbox) == 1


def test_retries_back_off_exponentially_up_to_six_hours():
    minutes = [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 10, 20)]
    assert minutes == [1, 2, 4, 8, 360, 360]
