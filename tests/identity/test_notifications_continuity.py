"""Nobody's message is lost when they leave: a deactivated person's mail goes to the team
contact, co-owners hear what the owner hears, and the daily jobs stay query-flat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from catalog import notifications
from catalog.models import Notification
from lifecycle import services
from tests.factories import MicroAppFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(alice, support_tools):
    return MicroAppFactory(
        slug="router", name="Router", team=support_tools, owner=alice, state="active"
    )


def _deactivate_quietly(user):
    # Straight to the column: the handover would move the apps, and these tests are about
    # messages already addressed to the person.
    type(user).objects.filter(pk=user.pk).update(is_active=False)


def test_a_deactivated_recipients_mail_goes_to_the_apps_team_contact(app, alice):
    notifications.notify(
        recipient=alice, app=app, kind="x", subject="Renew Router", body="Due.", dedupe_key="k"
    )
    _deactivate_quietly(alice)

    result = notifications.send_pending()

    assert result.sent == 1
    (message,) = mail.outbox
    assert message.to == [app.team.contact_email]
    assert "meant for alice" in message.body and "Due." in message.body


def test_without_an_app_the_recipients_own_team_stands_in(alice, support_tools):
    notifications.notify(recipient=alice, kind="x", subject="s", body="b", dedupe_key="k")
    _deactivate_quietly(alice)

    notifications.send_pending()

    assert [m.to for m in mail.outbox] == [[support_tools.contact_email]]


def test_without_a_team_contact_the_row_says_why_it_was_not_sent(alice):
    team = TeamFactory(contact_email="")
    lonely = MicroAppFactory(team=team, owner=alice, state="active")
    notifications.notify(
        recipient=alice, app=lonely, kind="x", subject="s", body="b", dedupe_key="k"
    )
    _deactivate_quietly(alice)

    result = notifications.send_pending()

    assert result.gave_up == 1 and not mail.outbox
    note = Notification.objects.get()
    assert note.last_error == notifications.UNDELIVERABLE_DEACTIVATED


def test_owners_notices_reach_the_co_owners_once_each(app, alice):
    dana, gone = UserFactory(username="dana"), UserFactory(username="gone", is_active=False)
    app.co_owners.add(dana, gone)

    notifications.notify_owners(app=app, kind="x", subject="s", body="b", dedupe_key="k")
    notifications.notify_owners(app=app, kind="x", subject="s", body="b", dedupe_key="k")

    recipients = set(Notification.objects.values_list("recipient__username", "dedupe_key"))
    assert recipients == {("alice", "k:owner"), ("dana", f"k:co:{dana.pk}")}


def test_reminders_reach_co_owners_and_a_deactivated_owner_through_the_team(app, alice):
    dana = UserFactory(username="dana")
    app.co_owners.add(dana)
    app.expires_at = timezone.now() + timedelta(days=5)
    app.save()
    _deactivate_quietly(alice)

    services.reminders_send()
    notifications.send_pending()

    # The owner's copy is the team contact's: one mail, not two.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([dana.email, app.team.contact_email])


@pytest.mark.parametrize("size", [2, 30])
def test_reminders_stay_query_flat_with_co_owners(
    alice, support_tools, size, django_assert_max_num_queries
):
    people = UserFactory.create_batch(3)
    for _ in range(size):
        app = MicroAppFactory(
            team=support_tools,
            owner=alice,
            state="active",
            expires_at=timezone.now() + timedelta(days=5),
        )
        app.co_owners.add(*people)

    # Lock the apps (co-owners included), the recorded reminders, the reminder rows, the
    # recipients' notification preferences, the outbox rows, plus the transaction's own
    # statements.
    with django_assert_max_num_queries(9):
        services.reminders_send()

    assert Notification.objects.filter(recipient__in=people).count() == 3 * size
