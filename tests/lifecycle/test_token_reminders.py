"""The daily notice of API tokens about to expire: once per token, through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.schedules import crontab

from catalog.models import Notification
from core import tokens
from lifecycle import services, tasks
from lifecycle.choices import NoticeKind
from tests.lifecycle.test_concurrency import require_postgres, twice_at_once

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 6, 5, tzinfo=UTC)


def issue(user, name: str, days: int, *, at=NOW - timedelta(days=1)):
    token, _ = tokens.issue(user=user, name=name, days=days, now=at)
    return token


def test_owners_are_told_once_about_tokens_with_a_week_or_less_left(alice, bob):
    soon = issue(alice, "deploy pipeline", days=5)  # 4 days left
    issue(alice, "far off", days=60)
    revoked = issue(alice, "revoked", days=5)
    tokens.revoke(revoked)
    issue(alice, "expired", days=1, at=NOW - timedelta(days=3))
    gone = issue(bob, "inactive user's", days=5)
    bob.is_active = False
    bob.save()

    with time_machine.travel(NOW, tick=False):
        assert services.token_reminders_send() == 1
        assert services.token_reminders_send() == 0  # queued once

    note = Notification.objects.get()
    assert note.recipient == alice
    assert note.kind == NoticeKind.API_TOKEN_EXPIRING
    assert note.app is None
    assert note.subject == "Your API token “deploy pipeline” expires in 4 days"
    assert soon.prefix in note.body and "revoke the old token" in note.body
    assert note.link == "/me/tokens/"
    assert gone.pk not in {n.pk for n in Notification.objects.all()}


def test_the_job_costs_the_same_queries_for_any_number_of_tokens(
    alice, bob, django_assert_max_num_queries
):
    for i in range(3):
        issue(alice, f"a{i}", days=3)
    # Three statements and the transaction's savepoint and release.
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(6):
        assert services.token_reminders_send() == 3
    for i in range(30):
        issue(bob, f"b{i}", days=3)
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(6):
        assert services.token_reminders_send() == 30
    assert Notification.objects.count() == 33


def test_the_job_is_on_the_daily_beat():
    from config.celery import app as celery_app

    entry = celery_app.conf.beat_schedule["send-token-expiry-reminders"]
    assert entry["task"] == "lifecycle.send_token_expiry_reminders"
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {6} and entry["schedule"].minute == {5}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_queue_each_notice_once(alice, bob):
    require_postgres()
    for user in (alice, bob):
        for i in range(5):
            tokens.issue(user=user, name=f"script {i}", days=3)

    results, errors = twice_at_once(lambda: tasks.send_token_expiry_reminders.apply().get())

    assert errors == []
    # Each worker reports only the notices it queued.
    assert sum(results) == 10, results
    assert Notification.objects.filter(kind=NoticeKind.API_TOKEN_EXPIRING).count() == 10
    keys = list(Notification.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys))
    assert tasks.send_token_expiry_reminders.apply().get() == 0
