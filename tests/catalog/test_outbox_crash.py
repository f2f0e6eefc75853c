"""A worker stopped mid-batch repeats at most the message in flight.

Eight team webhooks go to a real HTTP receiver on loopback, which counts the POSTs per
message id. The sender "dies" right after the third POST has gone out, before the worker
could record it: the first two are recorded as sent, the five never tried are released
(or, for a worker killed outright, wait for their lease), and only the third is sent
twice.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from catalog import notifications
from catalog.choices import NotificationChannel
from catalog.models import Notification
from core import outbox
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
PORT = 18021
MESSAGES = 8


class CountingReceiver(BaseHTTPRequestHandler):
    posts: Counter[str] = Counter()

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        self.posts[self.headers["webhook-id"]] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    CountingReceiver.posts = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", PORT), CountingReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield CountingReceiver.posts
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooks(receiver):
    team = TeamFactory(webhook_url=f"http://127.0.0.1:{PORT}/appkeeper")
    start = timezone.now() - timedelta(minutes=5)
    return [
        Notification.objects.create(
            team=team,
            channel=NotificationChannel.WEBHOOK,
            kind="test",
            subject=f"Message {i}",
            body="b",
            dedupe_key=f"crash:{i}",
            created_at=start + timedelta(seconds=i),  # the order the worker sends them in
        )
        for i in range(MESSAGES)
    ]


@pytest.fixture
def dies_after_third_post(monkeypatch):
    """The worker process ends (SystemExit unwinds the stack, as a warm shutdown does)
    right after the third webhook has reached the receiver."""
    real_post = outbox.post_webhook
    posted = []

    def post_then_die(url, body, headers):
        real_post(url, body, headers)
        posted.append(headers["webhook-id"])
        if len(posted) == 3:
            raise SystemExit(1)

    monkeypatch.setattr(outbox, "post_webhook", post_then_die)
    return monkeypatch


def ids(notes):
    return [f"msg_appkeeper_{note.pk}" for note in notes]


def test_a_worker_dying_mid_batch_sends_only_the_message_in_flight_twice(
    hooks, receiver, dies_after_third_post
):
    with pytest.raises(SystemExit):
        notifications.send_pending()
    assert receiver == Counter(ids(hooks[:3]))
    states = {n.pk: n for n in Notification.objects.all()}
    assert all(states[n.pk].sent_at for n in hooks[:2])
    in_flight = states[hooks[2].pk]
    assert in_flight.sent_at is None and in_flight.attempts == 1
    assert in_flight.last_error == notifications.INTERRUPTED
    assert all(states[n.pk].attempts == 0 for n in hooks[3:])  # never tried, no try used

    dies_after_third_post.undo()  # the next worker is healthy
    # The rows never tried were handed back: the next run sends them at once ...
    assert notifications.send_pending().sent == MESSAGES - 3
    # ... while the one in flight keeps its lease, and goes again once it runs out.
    with time_machine.travel(timezone.now() + outbox.LEASE + timedelta(seconds=1)):
        assert notifications.send_pending().sent == 1

    assert set(receiver) == set(ids(hooks))
    twice = [msg_id for msg_id, posts in receiver.items() if posts > 1]
    assert twice == ids(hooks[2:3]) and receiver[twice[0]] == 2
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_a_worker_killed_outright_leaves_untried_rows_to_its_lease(
    hooks, receiver, dies_after_third_post
):
    """SIGKILL runs no cleanup: nothing is released, the lease alone frees the rows."""
    dies_after_third_post.setattr(notifications, "release", lambda notes: None, raising=False)
    with pytest.raises(SystemExit):
        notifications.send_pending()
    dies_after_third_post.undo()

    assert notifications.send_pending().claimed == 0  # all still leased
    with time_machine.travel(timezone.now() + outbox.LEASE + timedelta(seconds=1)):
        assert notifications.send_pending().sent == MESSAGES - 2

    assert set(receiver) == set(ids(hooks))
    assert sorted(receiver.values()) == [1] * (MESSAGES - 1) + [2]
    assert receiver[ids(hooks[2:3])[0]] == 2


def test_a_message_that_kills_the_worker_every_time_runs_out_of_attempts(
    hooks, receiver, monkeypatch
):
    """The attempt is counted before the message leaves, so a message that crashes the
    worker is given up after MAX_ATTEMPTS instead of taking every batch down forever."""
    for note in hooks[1:]:
        note.sent_at = timezone.now()
        note.save(update_fields=["sent_at"])

    def crash(url, body, headers):
        raise KeyboardInterrupt

    monkeypatch.setattr(outbox, "post_webhook", crash)
    moment = timezone.now()
    for _ in range(outbox.MAX_ATTEMPTS):
        moment += outbox.LEASE + timedelta(seconds=1)
        with time_machine.travel(moment), pytest.raises(KeyboardInterrupt):
            notifications.send_pending()
    with time_machine.travel(moment + outbox.LEASE + timedelta(seconds=1)):
        assert notifications.send_pending().claimed == 0
    poison = Notification.objects.get(pk=hooks[0].pk)
    assert poison.attempts == outbox.MAX_ATTEMPTS and poison.sent_at is None


def test_emails_of_a_batch_share_one_connection_while_each_is_recorded(monkeypatch):
    opened = []
    real = outbox.get_connection

    def counting(**kwargs):
        opened.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(outbox, "get_connection", counting)
    user = UserFactory()
    for i in range(4):
        notifications.notify(recipient=user, kind="x", subject="s", body="b", dedupe_key=f"m{i}")
    result = notifications.send_pending()
    assert result.sent == 4 and len(mail.outbox) == 4
    assert len(opened) == 1
