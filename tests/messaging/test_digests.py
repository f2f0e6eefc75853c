"""Digests: one message per person and channel at their local digest hour, carrying the
notices held for it and, weekly, what needs them now; sent once however often the job runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from catalog.choices import AppState, NotificationChannel
from catalog.models import Notification, Review
from catalog.notifications import notify, send_pending
from config.celery import app as celery_app
from lifecycle.models import SunsetCase
from messaging import tasks
from messaging.digests import send_digests
from messaging.models import Cadence, ChatProfile, NotificationPreference, Topic
from scorecards.models import Scorecard
from tests.factories import MicroAppFactory, UserFactory

SATURDAY = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
# Monday 9 March 2026, 08:00 in New York (EDT, UTC-4).
MONDAY_8_NY = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def prefer(user, topic, cadence, channel="email"):
    NotificationPreference.objects.create(user=user, topic=topic, channel=channel, cadence=cadence)


def scorecard(app, quarter, grade, start):
    return Scorecard.objects.create(
        app=app,
        team=app.team,
        quarter=quarter,
        period_start=start,
        period_end=start + timedelta(days=89),
        documentation=50,
        telemetry=50,
        cost=50,
        responsiveness=50,
        overall=Decimal("50.0"),
        grade=grade,
    )


def test_the_job_is_on_the_beat_hourly_under_its_name():
    entry = celery_app.conf.beat_schedule["send-digests"]
    assert entry["task"] == "messaging.send_digests" == tasks.send_digests.name
    assert entry["schedule"].minute == {0} and len(entry["schedule"].hour) == 24


@pytest.fixture
def weekly_alice(alice, support_tools):
    """Alice in New York wants sunset news weekly by email; she owns an app expiring in 10
    days, with an open sunset case on another, and one whose grade fell from B to D."""
    ChatProfile.objects.create(user=alice, time_zone="America/New_York")
    prefer(alice, Topic.SUNSET, Cadence.WEEKLY)
    expiring = MicroAppFactory(
        name="Ticket Router",
        slug="ticket-router",
        owner=alice,
        team=support_tools,
        state=AppState.ACTIVE,
        expires_at=MONDAY_8_NY + timedelta(days=10, hours=3),
    )
    fading = MicroAppFactory(name="Old Reports", owner=alice, team=support_tools)
    SunsetCase.objects.create(
        app=fading, reason="low_usage", grace_ends_at=MONDAY_8_NY + timedelta(days=5)
    )
    scorecard(expiring, "2025-Q4", "B", date(2025, 10, 1))
    scorecard(expiring, "2026-Q1", "D", date(2026, 1, 1))
    with time_machine.travel(SATURDAY, tick=False):
        notify(
            recipient=alice,
            app=fading,
            kind="sunset_notice",
            subject="Old Reports is being sunset",
            body="b",
            dedupe_key="sunset:1",
            link="/sunset-cases/",
        )
    return alice


@pytest.mark.django_db
def test_the_weekly_digest_lists_what_needs_them_and_the_held_notices(weekly_alice):
    note = Notification.objects.get(kind="sunset_notice")
    with time_machine.travel(MONDAY_8_NY - timedelta(hours=1), tick=False):
        assert send_digests() == 0
    with time_machine.travel(MONDAY_8_NY, tick=False):
        assert send_digests() == 1
        assert tasks.send_digests.delay().get() == 0  # the rerun sends nothing twice
        send_pending()
    digest = Notification.objects.get(kind="digest_weekly")
    assert digest.recipient == weekly_alice and digest.channel == NotificationChannel.EMAIL
    assert digest.dedupe_key == f"digest:{weekly_alice.pk}:email:2026-03-09"
    assert "Ticket Router: 10 days left, expires Thu 19 Mar 2026" in digest.body
    assert "/apps/ticket-router/renew/" in digest.body
    assert "Old Reports: answer by Sat 14 Mar 2026" in digest.body
    assert "Ticket Router: B in 2025-Q4 → D in 2026-Q1" in digest.body
    assert "Sunset cases\n- Old Reports is being sunset (http" in digest.body
    assert "Reviews waiting" not in digest.body
    note.refresh_from_db()
    assert note.digest == digest and note.sent_at == MONDAY_8_NY
    assert digest.sent_at is not None
    assert [m.subject for m in mail.outbox] == [
        "[Appkeeper] Your weekly Appkeeper digest: 1 notice"
    ]
    assert "Ticket Router" in mail.outbox[0].body


@pytest.mark.django_db
def test_platform_members_see_the_reviews_waiting(pat, alice, support_tools):
    prefer(pat, Topic.REVIEWS, Cadence.WEEKLY)
    prefer(alice, Topic.REVIEWS, Cadence.WEEKLY)
    app = MicroAppFactory(
        name="Payments Bridge", owner=alice, team=support_tools, state=AppState.IN_REVIEW
    )
    Review.objects.create(app=app, due_at=datetime(2026, 3, 10, 9, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 3, 9, 8, tzinfo=UTC), tick=False):
        assert send_digests() == 1  # alice has nothing: no empty digest
    digest = Notification.objects.get(kind="digest_weekly")
    assert digest.recipient == pat
    assert "Reviews waiting\n- Payments Bridge: due Tue 10 Mar 2026" in digest.body


@pytest.mark.django_db
def test_the_daily_digest_carries_what_was_held_since_the_last_one(alice, bob, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    prefer(alice, Topic.REVIEWS, Cadence.DAILY)
    prefer(alice, Topic.REVIEWS, Cadence.DAILY, channel="slack")
    with time_machine.travel(SATURDAY, tick=False):
        for n in range(2):
            notify(
                recipient=alice,
                kind="review_requested",
                subject=f"Review {n}",
                body="b",
                dedupe_key=f"r:{n}",
                link=f"/reviews/{n}/",
            )
        notify(recipient=bob, kind="review_requested", subject="Now", body="b", dedupe_key="bob")
    sunday_8 = datetime(2026, 3, 8, 8, tzinfo=UTC)
    with time_machine.travel(sunday_8, tick=False):
        assert send_digests() == 2
        assert send_digests() == 0
    digests = Notification.objects.filter(kind="digest_daily")
    assert sorted(digests.values_list("channel", flat=True)) == ["email", "slack"]
    for digest in digests:
        assert digest.subject == "Your daily Appkeeper digest: 2 notices"
        assert "Reviews\n- Review 0 (http://127.0.0.1:8000/reviews/0/)\n- Review 1" in digest.body
        assert set(digest.digested.values_list("channel", flat=True)) == {digest.channel}
    assert not Notification.objects.filter(held_until__isnull=False, digest__isnull=True).exists()
    assert not Notification.objects.filter(kind__startswith="digest", recipient=bob).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 20])
def test_a_batch_of_people_costs_the_same_queries(
    size, pat, support_tools, django_assert_max_num_queries
):
    for n in range(size):
        person = UserFactory()
        ChatProfile.objects.create(user=person, time_zone="Europe/Berlin")
        for topic in (Topic.SUNSET, Topic.SCORECARDS):
            prefer(person, topic, Cadence.WEEKLY)
        app = MicroAppFactory(
            owner=person,
            team=support_tools,
            state=AppState.ACTIVE,
            expires_at=MONDAY_8_NY + timedelta(days=3),
        )
        SunsetCase.objects.create(
            app=MicroAppFactory(owner=person, team=support_tools),
            reason="low_usage",
            grace_ends_at=MONDAY_8_NY,
        )
        scorecard(app, "2025-Q4", "A", date(2025, 10, 1))
        scorecard(app, "2026-Q1", "C", date(2026, 1, 1))
        with time_machine.travel(SATURDAY, tick=False):
            notify(
                recipient=person, kind="sunset_notice", subject="s", body="b", dedupe_key=f"s{n}"
            )
    berlin_monday_8 = datetime(2026, 3, 9, 7, tzinfo=UTC)
    # Held rows, weekly preferences, time zones, six for the live facts, the digests queued
    # before, the insert, the read-back, the update (and the savepoint pair).
    with time_machine.travel(berlin_monday_8, tick=False), django_assert_max_num_queries(17):
        assert send_digests() == size
    assert (
        Notification.objects.filter(kind="digest_weekly", body__contains="C in 2026-Q1").count()
        == size
    )


@pytest.mark.django_db
def test_the_app_lists_each_notice_once_not_its_slack_copy_or_digest(client, alice, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    prefer(alice, Topic.REVIEWS, Cadence.DAILY)
    with time_machine.travel(SATURDAY, tick=False):
        notify(
            recipient=alice, kind="review_requested", subject="Review me", body="b", dedupe_key="r"
        )
    with time_machine.travel(datetime(2026, 3, 8, 8, tzinfo=UTC), tick=False):
        assert send_digests() == 1
    assert Notification.objects.filter(recipient=alice).count() == 3
    assert [n.subject for n in Notification.objects.unread_for(alice)] == ["Review me"]
    client.force_login(alice)
    body = client.get("/me/notifications/").content.decode()
    assert body.count("Review me") == 1 and "Appkeeper digest" not in body
