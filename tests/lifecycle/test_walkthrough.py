"""Time frozen: walk apps through their lifecycle with the beat schedule, hour by hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from catalog.choices import AppState
from catalog.models import AuditEvent, Notification
from lifecycle.models import Reminder, SunsetCase
from tests.factories import MicroAppFactory
from tests.lifecycle.beat import near, run_beat

pytestmark = pytest.mark.django_db
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WHY = "The support team still routes every ticket through it."


def walk(app, start, until_day):
    """Run the beat from ``start`` for ``until_day`` days: every hour in which a daily job
    runs (the hourly jobs with them), which is all this test's day-level steps need."""
    run_beat(start, start + timedelta(days=until_day), hours=lambda hour: False)


def deadlines(expires_at):
    """When the README says something happens to an app expiring at ``expires_at``."""
    reminders = [expires_at - timedelta(days=d) for d in (30, 14, 7, 1)]
    return near(*reminders, expires_at, expires_at + timedelta(days=30))


def test_reminders_renewal_expiry_grace_sunset_and_retirement(
    alice, support_tools, regions, settings
):
    settings.APPKEEPER_SUNSET_MIN_REQUESTS = 0  # a busy app: only expiry matters here
    with time_machine.travel(START, tick=False):
        app = MicroAppFactory(team=support_tools, owner=alice, state=AppState.DRAFT)
        app.activate(by=alice)
    assert app.expires_at == START + timedelta(days=90)

    # Expiry at day 90 09:00; each reminder goes out at the hour it falls due.
    watch = deadlines(app.expires_at)
    run_beat(START, START + timedelta(days=90), hours=watch)
    sent = dict(Reminder.objects.filter(app=app).values_list("sent_at", "days_before"))
    assert sent == {START + timedelta(days=d): 90 - d for d in (60, 76, 83, 89)}
    assert not Reminder.objects.filter(superseded=True).exists()
    assert Notification.objects.filter(kind="expiry_reminder", recipient=alice).count() == 4
    # The subjects give the time actually left; the last one in hours, not "tomorrow".
    subjects = sorted(m.subject for m in mail.outbox)
    for left in ("in 30 days", "in 14 days", "in 7 days", "in 24 hours"):
        assert any(f"due for expiry {left}" in s for s in subjects), subjects
    app.refresh_from_db()
    assert app.state == AppState.ACTIVE

    # Day 90, 09:10: expired (suspended), ten minutes after its deadline. The owner renews
    # during the grace period.
    run_beat(START + timedelta(days=90), START + timedelta(days=90, minutes=11), hours=watch)
    app.refresh_from_db()
    assert app.state == AppState.EXPIRED
    expired = AuditEvent.objects.get(app=app, action="expired")
    assert expired.at == START + timedelta(days=90, minutes=10)
    assert Notification.objects.filter(kind="app_expired", recipient=alice).exists()

    from lifecycle import services

    renewed_at = (START + timedelta(days=100)).replace(hour=12)
    with time_machine.travel(renewed_at, tick=False):
        services.app_renew(app=app, actor=alice, justification=WHY)
    app.refresh_from_db()
    assert app.state == AppState.ACTIVE and app.expires_at == renewed_at + timedelta(days=90)

    # The new period gets its own reminders; this time nobody renews.
    watch = deadlines(app.expires_at)
    run_beat(renewed_at, renewed_at + timedelta(days=90, minutes=11), hours=watch)
    app.refresh_from_db()
    assert app.state == AppState.EXPIRED
    assert Reminder.objects.filter(app=app, expires_at=app.expires_at).count() == 4
    grace_end = app.expires_at + timedelta(days=30)
    run_beat(
        renewed_at + timedelta(days=90, minutes=11), grace_end + timedelta(minutes=11), hours=watch
    )
    app.refresh_from_db()
    assert app.state == AppState.SUNSETTING
    case = SunsetCase.objects.get(app=app, closed_at__isnull=True)
    assert case.reason == "expired" and case.opened_at == grace_end + timedelta(minutes=10)

    # Nobody answers: retired within the hour of the grace end, data kept.
    run_beat(
        case.opened_at, case.grace_ends_at + timedelta(minutes=21), hours=near(case.grace_ends_at)
    )
    app.refresh_from_db()
    case.refresh_from_db()
    assert app.state == AppState.RETIRED
    assert case.outcome == "retired"
    assert case.closed_at == case.grace_ends_at + timedelta(minutes=10)


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
