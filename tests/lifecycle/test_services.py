"""Lifecycle rules as services: renewals, reminders, expiry, sunset cases, the drainer."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog import notifications
from catalog.choices import AppState, Criticality, NotificationChannel
from catalog.models import AuditEvent, Notification
from core import outbox
from lifecycle import selectors, services
from lifecycle.choices import SunsetOutcome, SunsetReason
from lifecycle.models import Reminder, Renewal, SunsetCase, UsageReport
from tests.lifecycle.conftest import live_app

pytestmark = pytest.mark.django_db
WHY = "Still routes every support ticket we get."


# --- renewal -----------------------------------------------------------------------------------


def test_renewal_extends_from_the_later_of_now_and_expiry(app, alice):
    app.expires_at = timezone.now() + timedelta(days=10)
    app.save()
    before = app.expires_at
    renewal = services.app_renew(app=app, actor=alice, justification=WHY)
    app.refresh_from_db()
    assert app.expires_at == before + timedelta(days=90)
    assert renewal.previous_expires_at == before and renewal.expires_at == app.expires_at
    assert AuditEvent.objects.filter(app=app, action="renewed").exists()


def test_renewal_of_an_expired_app_restarts_the_clock_from_now(app, alice):
    now = timezone.now()
    app.state, app.expires_at = AppState.EXPIRED, now - timedelta(days=3)
    app.save()
    with time_machine.travel(now, tick=False):
        services.app_renew(app=app, actor=alice, justification=WHY)
    app.refresh_from_db()
    assert app.state == AppState.ACTIVE
    assert app.expires_at == now + timedelta(days=90)


def test_renewal_opens_30_days_before_expiry(app, alice):
    app.expires_at = timezone.now() + timedelta(days=31)
    app.save()
    with pytest.raises(services.RenewalNotAllowed, match="Renewal opens on"):
        services.app_renew(app=app, actor=alice, justification=WHY)
    assert not Renewal.objects.exists()


def test_the_renewal_window_follows_the_first_reminder_everywhere(app, alice, settings, rf):
    """Reminders, the refusal, the Renew button and the dashboard's due list share one
    window: the largest of APPKEEPER_REMINDER_DAYS."""
    from lifecycle import panels

    settings.APPKEEPER_REMINDER_DAYS = [45, 7]
    assert selectors.renewal_window() == timedelta(days=45)
    app.expires_at = timezone.now() + timedelta(days=50)
    app.save()
    assert selectors.renewal_refusal(app=app).endswith(", 45 days before the app expires.")
    request = rf.get("/")
    request.user = alice
    assert panels.renew_action(request, app) is None
    assert panels.todo_panel_context(request)["due"] == []
    assert services.reminders_send() == 0

    app.expires_at = timezone.now() + timedelta(days=40)
    app.save()
    assert selectors.renewal_refusal(app=app) == ""
    assert panels.renew_action(request, app) == {}
    assert [a.pk for a in panels.todo_panel_context(request)["due"]] == [app.pk]
    assert services.reminders_send() == 1
    assert Reminder.objects.get(app=app).days_before == 45


def test_renewal_needs_a_justification_of_20_characters(app, alice):
    app.expires_at = timezone.now() + timedelta(days=5)
    app.save()
    with pytest.raises(ValidationError):
        services.app_renew(app=app, actor=alice, justification="still needed")


def test_a_second_renewal_right_after_the_first_is_refused(app, alice, bob):
    """What the row lock makes of two concurrent renewals: the second runs after the
    first and finds the app outside its window, so the app is extended once."""
    app.expires_at = timezone.now() + timedelta(days=5)
    app.save()
    services.app_renew(app=app, actor=alice, justification=WHY)
    with pytest.raises(services.RenewalNotAllowed):
        services.app_renew(app=app, actor=bob, justification=WHY)
    assert Renewal.objects.count() == 1


def test_critical_apps_renew_for_a_year(alice, support_tools):
    app = live_app(team=support_tools, owner=alice, days_left=5, criticality=Criticality.CRITICAL)
    before = app.expires_at
    services.app_renew(app=app, actor=alice, justification=WHY)
    app.refresh_from_db()
    assert app.expires_at == before + timedelta(days=365)


def test_renewing_a_sunsetting_app_with_an_expired_case_reactivates_it(app, alice):
    now = timezone.now()
    app.state, app.expires_at = AppState.SUNSETTING, now - timedelta(days=31)
    app.save()
    case = SunsetCase.objects.create(
        app=app, reason=SunsetReason.EXPIRED, grace_ends_at=now + timedelta(days=14)
    )
    services.app_renew(app=app, actor=alice, justification=WHY)
    app.refresh_from_db()
    case.refresh_from_db()
    assert app.state == AppState.ACTIVE
    assert case.closed_at and case.outcome == SunsetOutcome.REACTIVATED


def test_a_low_usage_sunset_cannot_be_renewed_away(app, alice):
    app.state = AppState.SUNSETTING
    app.save()
    SunsetCase.objects.create(
        app=app, reason=SunsetReason.LOW_USAGE, grace_ends_at=timezone.now() + timedelta(days=14)
    )
    with pytest.raises(services.RenewalNotAllowed, match="low usage"):
        services.app_renew(app=app, actor=alice, justification=WHY)


# --- secrets -----------------------------------------------------------------------------------


def test_issue_secret_shows_it_once(alice, support_tools):
    app = live_app(team=support_tools, owner=alice)
    secret = services.app_issue_secret(app=app, actor=alice)
    assert secret and secret.startswith("whsec_")
    assert services.app_issue_secret(app=app, actor=alice) is None
    app.refresh_from_db()
    assert app.ingestion_secret == secret and not app.previous_ingestion_secret


def test_rotation_keeps_the_old_secret_for_24_hours(app, alice):
    old = app.ingestion_secret
    new = services.app_rotate_secret(app=app, actor=alice)
    app.refresh_from_db()
    assert app.ingestion_secret == new and app.previous_ingestion_secret == old
    assert app.previous_secret_valid_until - timezone.now() > timedelta(hours=23, minutes=59)
    assert "whsec" not in str(AuditEvent.objects.filter(app=app).values_list("comment", "data"))


# --- reminders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "days_left, expected",
    [
        (40, None),
        (30.5, None),
        (29.9, 30),
        (20, 30),
        (14, 14),
        (8, 14),
        (6.5, 7),
        (0.5, 1),
        (-1, None),
    ],
)
def test_the_reminder_due_is_the_smallest_threshold_not_below_the_time_left(days_left, expected):
    now = timezone.now()
    assert services.reminder_due(now + timedelta(days=days_left), now) == expected


def test_reminders_go_to_owner_and_team_contact_once_per_period(app, alice):
    app.expires_at = timezone.now() + timedelta(days=20)
    app.save()
    assert services.reminders_send() == 1
    assert services.reminders_send() == 0
    assert Reminder.objects.get().days_before == 30
    notes = Notification.objects.filter(kind="expiry_reminder")
    assert {(n.recipient_id, n.team_id) for n in notes} == {(alice.pk, None), (None, app.team_id)}


def test_a_critical_apps_reminder_asks_for_re_certification_and_threatens_no_suspension(app, alice):
    app.criticality = "critical"
    app.expires_at = timezone.now() + timedelta(days=20)
    app.save()
    assert services.reminders_send() == 1
    note = Notification.objects.get(kind="expiry_reminder", recipient=alice)
    assert note.subject.startswith(f"{app.name} is due for re-certification in ")
    assert "does not expire" in note.body and "re-certification is due on" in note.body
    assert "suspended" not in note.body and "let it expire" not in note.body


def test_a_renewal_after_the_30_day_reminder_starts_a_new_period(app, alice):
    now = timezone.now()
    app.expires_at = now + timedelta(days=25)
    app.save()
    services.reminders_send(now=now)
    services.app_renew(app=app, actor=alice, justification=WHY)
    app.refresh_from_db()
    later = app.expires_at - timedelta(days=29)
    assert services.reminders_send(now=later) == 1
    assert Reminder.objects.filter(app=app, days_before=30).count() == 2


def test_team_webhook_gets_a_notification_row_too(app):
    app.team.webhook_url = "https://hooks.example.com/appkeeper"
    app.team.save()
    app.expires_at = timezone.now() + timedelta(days=5)
    app.save()
    services.reminders_send()
    assert Notification.objects.filter(channel=NotificationChannel.WEBHOOK, team=app.team).exists()


# --- expiry ------------------------------------------------------------------------------------


def test_expire_apps_suspends_then_sunsets_after_the_grace(app, alice):
    now = timezone.now()
    app.expires_at = now - timedelta(hours=1)
    app.save()
    assert services.apps_expire(now=now).expired == 1
    app.refresh_from_db()
    assert app.state == AppState.EXPIRED
    assert Notification.objects.filter(kind="app_expired", recipient=alice).exists()
    assert AuditEvent.objects.filter(app=app, action="expired").exists()

    result = services.apps_expire(now=now + timedelta(days=30))
    assert result.sunsetting == 1
    app.refresh_from_db()
    assert app.state == AppState.SUNSETTING
    case = SunsetCase.objects.get(app=app)
    assert case.reason == SunsetReason.EXPIRED and case.is_open


def test_critical_apps_do_not_expire_but_are_flagged_for_recertification(alice, support_tools):
    app = live_app(team=support_tools, owner=alice, days_left=-1, criticality="critical")
    result = services.apps_expire()
    assert result.expired == 0 and result.recertification_overdue == 1
    app.refresh_from_db()
    assert app.state == AppState.ACTIVE
    services.apps_expire()
    assert Notification.objects.filter(kind="recertification_overdue", recipient=alice).count() == 1


# --- usage sunsetting --------------------------------------------------------------------------


def _usage(app, region, requests, days_ago=1):
    UsageReport.objects.create(
        app=app,
        region=region,
        requests=requests,
        date=timezone.now().date() - timedelta(days=days_ago),
    )


def test_low_usage_apps_live_over_a_quarter_get_one_case(alice, support_tools, regions, settings):
    settings.APPKEEPER_SUNSET_MIN_REQUESTS = 100
    quiet = live_app(team=support_tools, owner=alice, went_live_days_ago=120, days_left=60)
    silent = live_app(team=support_tools, owner=alice, went_live_days_ago=120, days_left=60)
    busy = live_app(team=support_tools, owner=alice, went_live_days_ago=120, days_left=60)
    young = live_app(team=support_tools, owner=alice, went_live_days_ago=30, days_left=60)
    _usage(quiet, regions["eu-central"], 99)
    _usage(quiet, regions["eu-central"], 5000, days_ago=100)  # outside the window
    _usage(busy, regions["eu-central"], 60)
    _usage(busy, regions["us-east"], 60)
    assert services.sunset_cases_open() == 2
    assert services.sunset_cases_open() == 0
    cases = {c.app_id: c for c in SunsetCase.objects.all()}
    assert set(cases) == {quiet.pk, silent.pk}
    assert cases[quiet.pk].figures["requests"] == 99
    assert cases[silent.pk].figures["requests"] == 0
    quiet.refresh_from_db()
    assert quiet.state == AppState.SUNSETTING
    note = Notification.objects.get(kind="sunset_notice", app=quiet, recipient=alice)
    assert "99 requests" in note.body
    for app in (busy, young):
        app.refresh_from_db()
        assert app.state == AppState.ACTIVE


def _open_case(app, *, days_ago=0):
    opened = timezone.now() - timedelta(days=days_ago)
    app.state = AppState.SUNSETTING
    app.save()
    return SunsetCase.objects.create(
        app=app,
        reason=SunsetReason.LOW_USAGE,
        opened_at=opened,
        grace_ends_at=opened + timedelta(days=14),
    )


def test_accepting_a_case_retires_the_app_at_once(app, alice):
    case = _open_case(app)
    services.sunset_respond(case=case, actor=alice, response="accept")
    app.refresh_from_db()
    case.refresh_from_db()
    assert app.state == AppState.RETIRED and app.retired_at
    assert case.outcome == SunsetOutcome.RETIRED and case.closed_at


def test_contesting_needs_a_justification_and_reaches_the_platform_team(app, alice, pat):
    case = _open_case(app)
    with pytest.raises(ValidationError):
        services.sunset_respond(case=case, actor=alice, response="contest", justification="no")
    services.sunset_respond(case=case, actor=alice, response="contest", justification=WHY)
    assert Notification.objects.filter(kind="sunset_contested", recipient=pat).exists()
    with pytest.raises(services.SunsetCaseError):
        services.sunset_respond(case=case, actor=alice, response="accept")


def test_answering_after_the_grace_end_is_refused(app, alice):
    case = _open_case(app, days_ago=15)
    with pytest.raises(services.SunsetCaseError, match="ended"):
        services.sunset_respond(case=case, actor=alice, response="contest", justification=WHY)


def test_an_upheld_contest_reactivates_with_a_fresh_expiry(app, alice, pat):
    case = _open_case(app)
    services.sunset_respond(case=case, actor=alice, response="contest", justification=WHY)
    services.sunset_decide(case=case, actor=pat, decision="uphold", comment="Fair enough.")
    app.refresh_from_db()
    assert app.state == AppState.ACTIVE
    assert app.expires_at - timezone.now() > timedelta(days=89)
    # An upheld contest buys a quarter: no new case tomorrow.
    app.went_live_at = timezone.now() - timedelta(days=200)
    app.save()
    assert services.sunset_cases_open() == 0


def test_a_rejected_contest_retires(app, alice, pat):
    case = _open_case(app)
    services.sunset_respond(case=case, actor=alice, response="contest", justification=WHY)
    services.sunset_decide(case=case, actor=pat, decision="retire", comment="Nobody uses it.")
    app.refresh_from_db()
    assert app.state == AppState.RETIRED


def test_an_uncontested_case_can_not_be_decided(app, pat):
    case = _open_case(app)
    with pytest.raises(services.SunsetCaseError):
        services.sunset_decide(case=case, actor=pat, decision="uphold")


def test_unanswered_cases_retire_at_the_grace_end_but_contested_ones_wait(
    alice, bob, support_tools
):
    silent = live_app(team=support_tools, owner=alice)
    contested = live_app(team=support_tools, owner=bob)
    silent_case = _open_case(silent, days_ago=15)
    contested_case = _open_case(contested, days_ago=10)
    services.sunset_respond(case=contested_case, actor=bob, response="contest", justification=WHY)
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        assert services.sunset_cases_close() == 1
        assert services.sunset_cases_close() == 0
    silent.refresh_from_db()
    contested.refresh_from_db()
    assert silent.state == AppState.RETIRED and "grace" in silent.retired_reason
    assert contested.state == AppState.SUNSETTING
    silent_case.refresh_from_db()
    assert silent_case.outcome == SunsetOutcome.RETIRED
    assert AuditEvent.objects.filter(app=silent, action="retired").exists()


def test_retired_apps_keep_their_data(app, alice, regions):
    _usage(app, regions["eu-central"], 5)
    case = _open_case(app)
    services.sunset_respond(case=case, actor=alice, response="accept")
    assert UsageReport.objects.filter(app=app).exists()
    assert AuditEvent.objects.filter(app=app).exists()


# --- notifications drainer ---------------------------------------------------------------------


def test_send_pending_emails_owner_and_team_contact_once(app, alice):
    app.expires_at = timezone.now() + timedelta(days=5)
    app.save()
    services.reminders_send()
    result = notifications.send_pending()
    assert result.sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([alice.email, app.team.contact_email])
    assert "/apps/ticket-router/renew/" in mail.outbox[0].body
    assert notifications.send_pending().claimed == 0


def test_webhooks_are_signed_and_failures_back_off(app, monkeypatch):
    from standardwebhooks.webhooks import Webhook

    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    app.team.webhook_url, app.team.webhook_secret = "https://hooks.example.com/x", secret
    app.team.save()
    calls = []

    def fake_post(url, body, headers):
        calls.append((url, body, headers))
        if len(calls) == 1:
            raise OSError("connection refused")

    monkeypatch.setattr(outbox, "post_webhook", fake_post)
    notifications.notify_owners(app=app, kind="test", subject="Hi", body="There", dedupe_key="t1")
    first = notifications.send_pending()
    assert first.failed == 1
    hook = Notification.objects.get(channel=NotificationChannel.WEBHOOK)
    assert hook.sent_at is None and hook.attempts == 1 and "refused" in hook.last_error
    assert hook.next_attempt_at > timezone.now()
    assert notifications.send_pending().claimed == 0  # backing off
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert notifications.send_pending().sent == 1
    url, body, headers = calls[-1]
    lowered = {k.lower(): v for k, v in headers.items()}
    Webhook(secret).verify(body, lowered)  # raises if the signature is wrong
    assert headers["webhook-id"] == calls[0][2]["webhook-id"]  # same id on retry


def test_a_notification_is_given_up_after_max_attempts(app, monkeypatch):
    note = Notification.objects.create(
        recipient=None,
        team=app.team,
        kind="x",
        subject="s",
        body="b",
        dedupe_key="give-up",
        attempts=notifications.MAX_ATTEMPTS - 1,
    )
    monkeypatch.setattr(
        outbox, "get_connection", lambda **kw: (_ for _ in ()).throw(OSError("smtp"))
    )
    result = notifications.send_pending()
    assert result.gave_up == 1
    note.refresh_from_db()
    assert note.sent_at is None and note.next_attempt_at is None
    pending = Notification.objects.pending(max_attempts=notifications.MAX_ATTEMPTS)
    assert not pending.filter(pk=note.pk).exists()


def test_claimed_rows_are_invisible_to_a_second_worker(app):
    Notification.objects.create(
        recipient=app.owner, kind="x", subject="s", body="b", dedupe_key="claim-1"
    )
    assert len(notifications.claim()) == 1
    assert notifications.claim() == []


def test_in_app_read_marking(app, alice):
    notifications.notify(recipient=alice, kind="x", subject="s", body="b", dedupe_key="r1")
    notifications.notify(recipient=alice, kind="x", subject="s", body="b", dedupe_key="r2")
    assert Notification.objects.unread_for(alice).count() == 2
    assert notifications.mark_read(user=alice) == 2
    assert Notification.objects.unread_for(alice).count() == 0


@pytest.mark.parametrize("decision", ["uphold", "retire"])
def test_a_critical_apps_low_usage_case_is_never_retired_unanswered(
    alice, pat, support_tools, decision
):
    now = timezone.now()
    app = live_app(
        team=support_tools, owner=alice, now=now, went_live_days_ago=120, criticality="critical"
    )
    assert services.sunset_cases_open(now=now) == 1
    case = SunsetCase.objects.get(app=app)
    owner_notice = Notification.objects.get(kind="sunset_notice", recipient=alice)
    assert "not retired without an answer: the platform team decides" in owner_notice.body
    assert Notification.objects.filter(kind="sunset_notice", recipient=pat).count() == 1

    # Nobody answers; long past the grace end the case still waits for the platform team.
    later = case.grace_ends_at + timedelta(days=30)
    assert services.sunset_cases_close(now=later) == 0
    app.refresh_from_db()
    case.refresh_from_db()
    assert app.state == AppState.SUNSETTING and case.is_open and case.can_decide

    services.sunset_decide(case=case, actor=pat, decision=decision, now=later)
    app.refresh_from_db()
    expected = AppState.ACTIVE if decision == "uphold" else AppState.RETIRED
    assert app.state == expected and not SunsetCase.objects.open().exists()


def test_an_uncontested_case_of_an_app_that_is_not_critical_cannot_be_decided(alice, pat, app):
    app.went_live_at = timezone.now() - timedelta(days=120)
    app.save()
    assert services.sunset_cases_open() == 1
    case = SunsetCase.objects.get(app=app)
    assert not case.can_decide
    with pytest.raises(services.SunsetCaseError):
        services.sunset_decide(case=case, actor=pat, decision="retire")
