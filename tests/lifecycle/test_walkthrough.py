"""Time frozen: walk apps through their lifecycle day by day with the beat jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from catalog.choices import AppState
from catalog.models import Notification
from lifecycle import tasks
from lifecycle.models import Reminder, SunsetCase
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WHY = "The support team still routes every ticket through it."


def run_daily_jobs():
    """What beat runs each morning (plus the every-minute drainer)."""
    from catalog.tasks import send_notifications

    tasks.send_expiry_reminders.delay()
    tasks.expire_apps.delay()
    tasks.open_sunset_cases.delay()
    tasks.close_sunset_cases.delay()
    send_notifications.delay()


def walk(app, start, until_day, on_day=None):
    """Run the daily jobs at 06:00 of each day from day 1 to ``until_day`` (inclusive)."""
    for day in range(1, until_day + 1):
        moment = (start + timedelta(days=day)).replace(hour=6, minute=0)
        with time_machine.travel(moment, tick=False):
            run_daily_jobs()
            if on_day:
                on_day(day)


def test_reminders_renewal_expiry_grace_sunset_and_retirement(
    alice, support_tools, regions, settings
):
    settings.APPKEEPER_SUNSET_MIN_REQUESTS = 0  # a busy app: only expiry matters here
    with time_machine.travel(START, tick=False):
        app = MicroAppFactory(team=support_tools, owner=alice, state=AppState.DRAFT)
        app.activate(by=alice)
    assert app.expires_at == START + timedelta(days=90)

    reminded = {}

    def record(day):
        for r in Reminder.objects.filter(app=app).exclude(days_before__in=reminded.values()):
            reminded[day] = r.days_before

    walk(app, START, 90, on_day=record)
    # Expiry at day 90 09:00; the 06:00 jobs remind on these days.
    assert reminded == {61: 30, 77: 14, 84: 7, 90: 1}
    assert Notification.objects.filter(kind="expiry_reminder", recipient=alice).count() == 4
    # The subjects give the days actually left (29 days 3 hours at the 30-day reminder;
    # 3 hours at the 1-day one, which goes out on the expiry day itself).
    subjects = sorted(m.subject for m in mail.outbox)
    assert any("due for expiry in 29 days" in s for s in subjects), subjects
    assert any("due for expiry today" in s for s in subjects), subjects
    app.refresh_from_db()
    assert app.state == AppState.ACTIVE

    # Day 91: expired (suspended). Owner renews during the grace period.
    walk_from = START + timedelta(days=90)
    walk(app, walk_from, 1)
    app.refresh_from_db()
    assert app.state == AppState.EXPIRED
    assert Notification.objects.filter(kind="app_expired", recipient=alice).exists()

    from lifecycle import services

    renewed_at = (START + timedelta(days=100)).replace(hour=12)
    with time_machine.travel(renewed_at, tick=False):
        services.app_renew(app=app, actor=alice, justification=WHY)
    app.refresh_from_db()
    assert app.state == AppState.ACTIVE and app.expires_at == renewed_at + timedelta(days=90)

    # The new period gets its own reminders; this time nobody renews.
    walk(app, renewed_at, 90 + 29)
    app.refresh_from_db()
    assert app.state == AppState.EXPIRED
    assert Reminder.objects.filter(app=app, expires_at=app.expires_at).count() == 4
    walk(app, renewed_at + timedelta(days=90 + 29), 2)  # grace over
    app.refresh_from_db()
    assert app.state == AppState.SUNSETTING
    case = SunsetCase.objects.get(app=app, closed_at__isnull=True)
    assert case.reason == "expired"

    # Nobody answers: retired at the grace end, data kept.
    walk(app, case.opened_at, 15)
    app.refresh_from_db()
    case.refresh_from_db()
    assert app.state == AppState.RETIRED
    assert case.outcome == "retired"


def test_low_usage_sunset_contest_uphold_and_later_retirement(alice, pat, support_tools, regions):
    from lifecycle import services

    with time_machine.travel(START, tick=False):
        app = MicroAppFactory(team=support_tools, owner=alice, state=AppState.DRAFT)
        app.activate(by=alice)
    # A busy first quarter would be fine; this app reports nothing. Keep it renewed.
    with time_machine.travel(START + timedelta(days=70), tick=False):
        services.app_renew(app=app, actor=alice, justification=WHY)
    walk(app, START, 90)
    assert not SunsetCase.objects.exists()  # live for exactly 90 days: not yet
    walk(app, START + timedelta(days=90), 1)
    case = SunsetCase.objects.get(app=app)
    app.refresh_from_db()
    assert case.reason == "low_usage" and app.state == AppState.SUNSETTING
    assert Notification.objects.filter(kind="sunset_notice", recipient=alice).exists()

    with time_machine.travel(START + timedelta(days=95), tick=False):
        services.sunset_respond(case=case, actor=alice, response="contest", justification=WHY)
    walk(app, START + timedelta(days=95), 20)  # past the grace end: contested, so it waits
    app.refresh_from_db()
    assert app.state == AppState.SUNSETTING
    with time_machine.travel(START + timedelta(days=116), tick=False):
        services.sunset_decide(case=case, actor=pat, decision="uphold", comment="Quarter-end app.")
    app.refresh_from_db()
    assert app.state == AppState.ACTIVE
    assert app.expires_at == START + timedelta(days=116) + timedelta(days=90)

    # Renewed in time, but a quarter after the decision still no usage: a new case,
    # unanswered this time → retired.
    walk(app, START + timedelta(days=116), 74)
    with time_machine.travel(START + timedelta(days=190, hours=3), tick=False):
        services.app_renew(app=app, actor=alice, justification=WHY)
    walk(app, START + timedelta(days=190), 17)
    app.refresh_from_db()
    assert app.state == AppState.SUNSETTING
    walk(app, START + timedelta(days=207), 15)
    app.refresh_from_db()
    assert app.state == AppState.RETIRED
    assert SunsetCase.objects.filter(app=app).count() == 2
