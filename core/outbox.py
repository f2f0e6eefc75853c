"""Delivering outbox messages: email through Django's backend, webhooks signed and POSTed,
with the retry schedule. The outbox's rows live with the app that owns them (catalog's
``Notification``); it claims them, hands core's ``Sender`` one ``Message`` per row and
records each outcome before the next message is sent, so core never needs to know the
model.
"""

from __future__ import annotations

import base64
import logging
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from standardwebhooks import Webhook

from core.webhooks import SECRET_PREFIX

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A claimed row is invisible to other workers for this long. Outcomes are recorded one row
# at a time, so a worker that dies mid-batch leaves at most the message in flight without
# one: it is sent again once the lease runs out (at-least-once, never lost). The lease
# outlasts a whole batch even when every send times out (50 x 5 s webhooks, 10 s SMTP).
LEASE = timedelta(minutes=10)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
WEBHOOK_TIMEOUT_SECONDS = 5


def backoff(attempts: int) -> timedelta:
    """Delay before attempt ``attempts + 1``: 1, 2, 4 ... minutes, at most six hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def sign_webhook(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`` (Standard Webhooks).

    A ``whsec_`` secret is base64 of the key, as the scheme defines it. Teams may also
    have pasted a plain shared secret, whose UTF-8 bytes have always been the key: the
    library only takes base64, so such a secret is encoded for it and signs as before.
    """
    if not secret.startswith(SECRET_PREFIX):
        secret = base64.b64encode(secret.encode()).decode()
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return Webhook(secret).sign(msg_id, moment, body.decode())


def post_webhook(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST and raise unless the receiver answers 2xx (the one place HTTP leaves us)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


@dataclass(frozen=True)
class WebhookPost:
    url: str
    body: bytes
    headers: dict[str, str]


class PermanentFailure(Exception):
    """A delivery no retry can fix (a revoked token, a deleted channel): the row is given
    up at once with this message."""


@dataclass(frozen=True)
class Message:
    """What leaves the machine for one outbox row: an email, a webhook, a call to a chat
    service (``call``: raises on failure, :class:`PermanentFailure` when retrying cannot
    help), or the reason it never can (no address, no URL), which gives the row up at
    once."""

    key: int
    email: EmailMessage | None = None
    webhook: WebhookPost | None = None
    call: Callable[[], None] | None = None
    undeliverable: str = ""


@dataclass(frozen=True)
class Result:
    """What became of one message: delivered, failed (to retry later), or given up now."""

    delivered: bool
    error: str = ""
    retry: bool = True


DELIVERED = Result(delivered=True)


class Sender:
    """Sends messages one at a time, so that the caller can record each outcome before the
    next message leaves; emails share one connection, opened on the first one.

    Use it as a context manager: the email connection is closed at the end, also when the
    caller is interrupted mid-batch.
    """

    def __init__(self) -> None:
        self._connection: BaseEmailBackend | None = None

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, message: Message) -> Result:
        if message.undeliverable:
            return Result(delivered=False, error=message.undeliverable, retry=False)
        try:
            if message.call is not None:
                message.call()
            elif message.webhook is not None:
                post_webhook(message.webhook.url, message.webhook.body, message.webhook.headers)
            elif message.email is not None:
                if self._connection is None:
                    self._connection = get_connection(fail_silently=False)
                    self._connection.open()
                self._connection.send_messages([message.email])
        except PermanentFailure as exc:
            return Result(delivered=False, error=str(exc), retry=False)
        except Exception as exc:  # any network, HTTP or SMTP failure is retried later
            if message.email is not None:
                self.close()  # the next email starts on a fresh connection
            return Result(delivered=False, error=f"{exc.__class__.__name__}: {exc}")
        return DELIVERED

    def close(self) -> None:
        close_quietly(self._connection)
        self._connection = None


@dataclass
class Outcome:
    delivered: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # retried later
    undeliverable: dict[int, str] = field(default_factory=dict)  # given up now


def deliver(messages: Iterable[Message]) -> Outcome:
    """Send each message and collect the outcomes (callers that must record each outcome
    as it happens use :class:`Sender` directly)."""
    outcome = Outcome()
    with Sender() as sender:
        for message in messages:
            result = sender.send(message)
            if result.delivered:
                outcome.delivered.append(message.key)
            elif result.retry:
                outcome.failed[message.key] = result.error
            else:
                outcome.undeliverable[message.key] = result.error
    return outcome


def close_quietly(connection: BaseEmailBackend | None) -> None:
    if connection is None:
        return
    try:
        connection.close()
    except Exception:
        logger.warning("Could not close the email connection", exc_info=True)
