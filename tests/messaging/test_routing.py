"""A person's notices follow their preferences: held until their local digest hour, off
(kept in the app), a Slack copy when Slack is configured; urgent expiry notices never wait."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from catalog.choices import NotificationChannel, ReviewDecision
from catalog.models import Notification
from catalog.notifications import notify, notify_owners, queue
from lifecycle.choices import NoticeKind
from messaging.models import Cadence, ChatProfile, NotificationPreference, Topic
from messaging.routing import OFF_BY_PREFERENCE, next_digest_at, zone
from messaging.topics import TOPIC_OF_KIND, topic_of
from tests.factories import MicroAppFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
# Saturday 7 March 2026, 15:00 in New York (EST); DST starts there on Sunday at 02:00.
SATURDAY = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
NOTIFYING = {
    "notify",
    "notify_owners",
    "notify_platform_team",
    "owner_notifications",
    "platform_team_notifications",
    "dependent_owner_notices",
    "Notification",
    "_tell_the_team",
    "_tell_owners",
}


def kinds_in_code() -> set[str]:
    """Every ``kind`` the product's modules pass when they queue a notice: string literals,
    module constants, ``NoticeKind`` members, and ``review_{decision}`` over the decisions."""
    kinds: set[str] = {k.value for k in NoticeKind}
    for package in ("catalog", "lifecycle", "scorecards", "identity", "contracts", "ops"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or "management" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            constants = {
                t.id: node.value.value
                for node in tree.body
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                for t in node.targets
                if isinstance(t, ast.Name)
            }
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name not in NOTIFYING:
                    continue
                for keyword in node.keywords:
                    if keyword.arg != "kind":
                        continue
                    value = keyword.value
                    if isinstance(value, ast.Constant):
                        kinds.add(value.value)
                    elif isinstance(value, ast.Name) and value.id in constants:
                        kinds.add(constants[value.id])
                    elif isinstance(value, ast.JoinedStr):
                        assert ast.unparse(value) == "f'review_{decision}'", ast.unparse(value)
                        kinds |= {f"review_{d.value}" for d in ReviewDecision}
    return kinds


def test_every_kind_in_the_code_has_a_topic_chosen_for_it():
    found = kinds_in_code()
    assert {"review_requested", "contract_breaking", "owner_handed_over"} <= found
    assert found - set(TOPIC_OF_KIND) == set()
    assert topic_of("something_new") == Topic.OTHER


def held(user, topic, cadence, channel="email"):
    NotificationPreference.objects.create(user=user, topic=topic, channel=channel, cadence=cadence)


def test_daily_waits_for_8_local_the_next_day_across_the_dst_change():
    ny = zone("America/New_York")
    # Sunday 08:00 EDT (UTC-4): the clocks moved overnight, the hour did not.
    assert next_digest_at(Cadence.DAILY, ny, SATURDAY) == datetime(2026, 3, 8, 12, tzinfo=UTC)
    # Friday 15:00 EST: Saturday 08:00 EST (UTC-5).
    friday = SATURDAY - timedelta(days=1)
    assert next_digest_at(Cadence.DAILY, ny, friday) == datetime(2026, 3, 7, 13, tzinfo=UTC)
    assert next_digest_at(Cadence.WEEKLY, ny, SATURDAY) == datetime(2026, 3, 9, 12, tzinfo=UTC)
    # At 08:00 exactly the next digest is tomorrow's: the one now is being sent.
    at_eight = datetime(2026, 3, 9, 12, tzinfo=UTC)
    assert next_digest_at(Cadence.DAILY, ny, at_eight) == datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_an_unknown_or_empty_time_zone_is_the_installations(settings):
    assert zone("") == zone(settings.TIME_ZONE) == zone("Mars/Olympus_Mons")


@pytest.mark.django_db
def test_a_held_notice_waits_for_the_persons_local_hour_and_stays_in_the_app(alice):
    ChatProfile.objects.create(user=alice, time_zone="America/New_York")
    held(alice, Topic.REVIEWS, Cadence.DAILY)
    with time_machine.travel(SATURDAY, tick=False):
        note = notify(
            recipient=alice, kind="review_requested", subject="s", body="b", dedupe_key="k"
        )
    assert note is not None
    note.refresh_from_db()
    assert note.held_until == datetime(2026, 3, 8, 12, tzinfo=UTC)
    assert note.sent_at is None
    assert list(Notification.objects.unread_for(alice)) == [note]
    assert not Notification.objects.pending(max_attempts=5, now=SATURDAY + timedelta(days=9))


@pytest.mark.django_db
def test_off_is_kept_in_the_app_and_never_sent(alice):
    held(alice, Topic.OWNERSHIP, Cadence.OFF)
    note = notify(recipient=alice, kind="owner_handed_over", subject="s", body="b", dedupe_key="k")
    assert note is not None
    note.refresh_from_db()
    assert note.sent_at is not None and note.last_error == OFF_BY_PREFERENCE
    assert list(Notification.objects.unread_for(alice)) == [note]
    assert not Notification.objects.pending(max_attempts=5).exists()


@pytest.mark.django_db
def test_other_topics_and_team_rows_are_untouched(alice, support_tools):
    held(alice, Topic.REVIEWS, Cadence.WEEKLY)
    app = MicroAppFactory(owner=alice, team=support_tools)
    notify_owners(app=app, kind=NoticeKind.SUNSET_NOTICE, subject="s", body="b", dedupe_key="k")
    notify(team=support_tools, kind="review_requested", subject="s", body="b", dedupe_key="t")
    rows = Notification.objects.all()
    assert rows.count() == 2
    assert not rows.filter(held_until__isnull=False).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("cadence", [Cadence.WEEKLY, Cadence.DAILY, Cadence.OFF])
def test_expiry_reminders_within_7_days_go_out_at_once_whatever_was_chosen(
    cadence, alice, support_tools
):
    held(alice, Topic.EXPIRY, cadence)
    soon = MicroAppFactory(owner=alice, team=support_tools)
    soon.expires_at = SATURDAY + timedelta(days=6, hours=23)
    later = MicroAppFactory(owner=alice, team=support_tools)
    later.expires_at = SATURDAY + timedelta(days=14)
    with time_machine.travel(SATURDAY, tick=False):
        queue(
            Notification(
                recipient=alice,
                app=app,
                kind=NoticeKind.EXPIRY_REMINDER,
                subject="s",
                body="b",
                dedupe_key=f"r:{app.pk}",
            )
            for app in (soon, later)
        )
    urgent = Notification.objects.get(app=soon)
    assert urgent.held_until is None and urgent.sent_at is None
    assert Notification.objects.pending(max_attempts=5, now=SATURDAY).filter(pk=urgent.pk).exists()
    relaxed = Notification.objects.get(app=later)
    assert (relaxed.held_until is not None) == (cadence != Cadence.OFF)
    assert (relaxed.sent_at is not None) == (cadence == Cadence.OFF)


@pytest.mark.django_db
def test_no_slack_copy_unless_slack_is_configured(settings, alice):
    settings.SLACK_BOT_TOKEN = ""
    notify(recipient=alice, kind="review_requested", subject="s", body="b", dedupe_key="k")
    assert list(Notification.objects.values_list("channel", flat=True)) == ["email"]


@pytest.mark.django_db
def test_slack_copies_follow_the_slack_preference(settings, alice, bob):
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    held(bob, Topic.REVIEWS, Cadence.OFF, channel="slack")
    held(alice, Topic.SUNSET, Cadence.DAILY, channel="slack")
    with time_machine.travel(SATURDAY, tick=False):
        for person in (alice, bob):
            for kind in ("review_requested", NoticeKind.SUNSET_NOTICE):
                notify(
                    recipient=person,
                    kind=kind,
                    subject="s",
                    body="b",
                    dedupe_key=f"{kind}:{person.pk}",
                )
        # Queued twice: still one email and one Slack message.
        notify(
            recipient=alice,
            kind="review_requested",
            subject="s",
            body="b",
            dedupe_key=f"review_requested:{alice.pk}",
        )
    slack = Notification.objects.filter(channel=NotificationChannel.SLACK)
    assert sorted(slack.values_list("dedupe_key", flat=True)) == sorted(
        [
            f"review_requested:{alice.pk}:slack",
            f"sunset_notice:{alice.pk}:slack",
            f"sunset_notice:{bob.pk}:slack",
        ]
    )
    assert slack.get(recipient=alice, kind="sunset_notice").held_until == datetime(
        2026, 3, 8, 8, tzinfo=UTC
    )
    assert slack.get(recipient=alice, kind="review_requested").held_until is None
    assert Notification.objects.filter(channel=NotificationChannel.EMAIL).count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 20])
def test_a_bulk_queue_reads_preferences_once_for_everyone(
    size, settings, support_tools, django_assert_max_num_queries
):
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    people = [UserFactory() for _ in range(size)]
    for person in people:
        held(person, Topic.SUNSET, Cadence.WEEKLY)
        ChatProfile.objects.create(user=person, time_zone="Europe/Berlin")
    notes = [
        Notification(
            recipient=p, kind="sunset_notice", subject="s", body="b", dedupe_key=f"s:{p.pk}"
        )
        for p in people
    ]
    # The preferences, the time zones, the insert.
    with django_assert_max_num_queries(3):
        queue(notes)
    assert Notification.objects.filter(held_until__isnull=False).count() == size
    assert Notification.objects.filter(channel=NotificationChannel.SLACK).count() == size
