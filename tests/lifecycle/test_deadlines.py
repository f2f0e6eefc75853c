"""Deadlines fire within the hour they fall due, and an outage loses no reminder silently.

The beat runs as ``config/celery.py`` schedules it (``tests.lifecycle.beat``), with the
clock frozen at each beat.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import AuditEvent, Notification
from core.dates import time_left_in_words
from lifecycle import services
from lifecycle.models import Reminder
from tests.lifecycle.beat import near, run_beat
from tests.lifecycle.conftest import live_app

pytestmark = pytest.mark.django_db
# A Monday, at an hour none of the daily jobs runs.
LIVE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
EXPIRES = LIVE + timedelta(days=90)
REMINDERS = {d: EXPIRES - timedelta(days=d) for d in (30, 14, 7, 1)}


def reminders_of(app) -> dict[int, tuple[datetime, bool]]:
    rows = Reminder.objects.filter(app=app, expires_at=app.expires_at)
    return {r.days_before: (r.sent_at, r.superseded) for r in rows}


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (timedelta(days=6, hours=23, minutes=50), "in 7 days"),
        (timedelta(days=6, hours=2), "in 6 days"),
        (timedelta(days=2), "in 2 days"),
        (timedelta(hours=47), "in 47 hours"),
        (timedelta(hours=24), "in 24 hours"),
        (timedelta(hours=20), "in 20 hours"),
        (timedelta(minutes=90), "in 2 hours"),
        (timedelta(minutes=61), "in 1 hour"),
        (timedelta(minutes=20), "in 20 minutes"),
        (timedelta(seconds=50), "in 1 minute"),
    ],
)
def test_the_time_left_is_worded_from_the_exact_time(left, words):
    assert time_left_in_words(left) == words


def test_reminders_and_expiry_fire_within_the_hour_they_fall_due(alice, support_tools):
    app = live_app(team=support_tools, owner=alice, now=LIVE, days_left=90)
    watch = near(*REMINDERS.values(), EXPIRES)
    run_beat(LIVE, EXPIRES + timedelta(hours=1), hours=watch)

    # expires_at - N days at 10:00, sent by the 10:00 beat, not at 06:00 the next day.
    assert reminders_of(app) == {d: (at, False) for d, at in REMINDERS.items()}
    subjects = list(
        Notification.objects.filter(kind="expiry_reminder", recipient=alice)
        .order_by("created_at")
        .values_list("subject", flat=True)
    )
    assert [s.rsplit(" expiry ", 1)[1] for s in subjects] == [
        "in 30 days",
        "in 14 days",
        "in 7 days",
        "in 24 hours",
    ]
    app.refresh_from_db()
    assert app.state == AppState.EXPIRED
    assert AuditEvent.objects.get(app=app, action="expired").at == EXPIRES + timedelta(minutes=10)


def test_a_reminder_first_due_on_the_expiry_day_gives_the_hours_left(alice, support_tools):
    now = timezone.now()
    app = live_app(team=support_tools, owner=alice, now=now, days_left=4 / 24)
    assert services.reminders_send(now=now) == 1
    note = Notification.objects.get(kind="expiry_reminder", recipient=alice)
    assert note.subject == f"{app.name} is due for expiry in 4 hours"


def test_a_three_day_outage_over_the_expiry_replaces_the_last_reminder_by_the_expiry_notice(
    alice, support_tools
):
    app = live_app(team=support_tools, owner=alice, now=LIVE, days_left=90)
    outage = (EXPIRES - timedelta(days=2), EXPIRES + timedelta(days=1))

    def down(moment: datetime) -> bool:
        return outage[0] <= moment < outage[1]

    watch = near(*REMINDERS.values(), EXPIRES, *outage)
    run_beat(LIVE, EXPIRES + timedelta(days=3), hours=watch, down=down)

    app.refresh_from_db()
    assert app.state == AppState.EXPIRED
    # The first beat after the outage (10:00 that day, the expiry job at 10:10) expired it.
    assert AuditEvent.objects.get(app=app, action="expired").at == outage[1] + timedelta(minutes=10)
    reminders = reminders_of(app)
    assert reminders[1] == (outage[1] + timedelta(minutes=10), True)
    assert [reminders[d] for d in (30, 14, 7)] == [(REMINDERS[d], False) for d in (30, 14, 7)]
    sent = Notification.objects.filter(kind="expiry_reminder", recipient=alice)
    assert sent.count() == 3
    notice = Notification.objects.get(kind="app_expired", recipient=alice)
    assert "The reminder due 1 day before that date could not be sent in time" in notice.body
    assert "this notice replaces it" in notice.body


def test_a_critical_app_overdue_after_an_outage_tells_owners_and_platform_team_once(
    alice, pat, support_tools
):
    app = live_app(team=support_tools, owner=alice, now=LIVE, days_left=90, criticality="critical")
    outage = (EXPIRES - timedelta(days=10), EXPIRES + timedelta(days=2))
    watch = near(*REMINDERS.values(), EXPIRES, *outage)
    run_beat(
        LIVE,
        EXPIRES + timedelta(days=5),
        hours=watch,
        down=lambda moment: outage[0] <= moment < outage[1],
        twice=True,
    )

    app.refresh_from_db()
    assert app.state == AppState.ACTIVE  # critical: never suspended
    reminders = reminders_of(app)
    assert [reminders[d][1] for d in (30, 14, 7, 1)] == [False, False, True, True]
    notices = Notification.objects.filter(kind="recertification_overdue")
    assert {(n.recipient_id, n.team_id) for n in notices} == {
        (alice.pk, None),
        (None, support_tools.pk),
        (pat.pk, None),
    }
    body = notices.get(recipient=pat).body
    assert "The reminders due 7 and 1 days before that date could not be sent in time" in body


def test_the_expiry_notice_names_only_the_reminders_after_the_last_one_sent(alice, support_tools):
    now = timezone.now()
    app = live_app(team=support_tools, owner=alice, now=now, days_left=-0.5)
    # Recorded before superseded rows existed: first seen 5 days out, only the 7-day one.
    Reminder.objects.create(
        app=app, expires_at=app.expires_at, days_before=7, sent_at=now - timedelta(days=5)
    )
    assert services.apps_expire(now=now).expired == 1
    assert reminders_of(app) == {
        7: (now - timedelta(days=5), False),
        1: (now, True),
    }
    notice = Notification.objects.get(kind="app_expired", recipient=alice)
    assert "The reminder due 1 day before that date could not be sent in time" in notice.body
