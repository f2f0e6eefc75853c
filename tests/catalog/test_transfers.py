"""Bulk transfer, the service: what is selected, what a dry run writes (nothing), what a
real run writes, and that it costs the same for 3 apps as for 30."""

from __future__ import annotations

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import AuditEvent, MicroApp, Notification
from catalog.ownership import TRANSFERRED
from catalog.transfers import SelectionChanged, transfer
from tests.conftest import require_postgres
from tests.factories import MicroAppFactory, TeamFactory, UserFactory
from tests.lifecycle.test_concurrency import twice_at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def dave(db):
    return UserFactory(username="dave")


def test_a_dry_run_lists_the_persons_live_apps_and_writes_nothing(pat, alice, dave, support_tools):
    mine = MicroAppFactory(owner=alice, team=support_tools, slug="a-one", state=AppState.ACTIVE)
    MicroAppFactory(owner=alice, team=support_tools, slug="a-two", state=AppState.DRAFT)
    MicroAppFactory(owner=alice, team=support_tools, slug="gone", state=AppState.RETIRED)
    MicroAppFactory(owner=dave, team=support_tools, slug="daves", state=AppState.ACTIVE)
    co_owned = MicroAppFactory(owner=dave, team=support_tools, slug="shared")
    co_owned.co_owners.add(alice)

    with CaptureQueriesContext(connection) as queries:
        result = transfer(actor=pat, to=dave, from_owner=alice, dry_run=True)

    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements.count("SELECT") == 1
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements)

    assert result.dry_run and result.count == 2
    assert [m.slug for m in result.moved] == ["a-one", "a-two"]
    assert result.unchanged == []
    assert result.as_dict()["moved"][0] == {
        "slug": "a-one",
        "name": mine.name,
        "team": "support-tools",
        "team_name": "Support Tools",
        "from": "alice",
        "to": "dave",
        "orphaned": False,
    }
    assert MicroApp.objects.filter(owner=alice).count() == 3
    assert not AuditEvent.objects.exists() and not Notification.objects.exists()


def test_a_team_selection_moves_its_live_apps_and_lists_the_targets_own_as_unchanged(
    pat, alice, dave, support_tools, field_ops
):
    MicroAppFactory(owner=alice, team=support_tools, slug="s-one")
    MicroAppFactory(owner=dave, team=support_tools, slug="s-two")
    MicroAppFactory(owner=alice, team=field_ops, slug="elsewhere")

    result = transfer(actor=pat, to=dave, team=support_tools, reason="Team reorganised")

    assert [m.slug for m in result.moved] == ["s-one"]
    assert [m.slug for m in result.unchanged] == ["s-two"]
    assert MicroApp.objects.get(slug="s-one").owner == dave
    assert MicroApp.objects.get(slug="elsewhere").owner == alice
    assert AuditEvent.objects.filter(action=TRANSFERRED).count() == 1


def test_a_real_run_moves_audits_and_clears_the_orphaned_flag(pat, alice, dave, support_tools):
    gone = UserFactory(username="gone", is_active=False)
    orphan = MicroAppFactory(
        owner=gone, team=support_tools, slug="orphan", orphaned_at=timezone.now()
    )
    shared = MicroAppFactory(owner=alice, team=support_tools, slug="shared")
    shared.co_owners.add(dave, UserFactory(username="erin"))

    result = transfer(
        actor=pat, to=dave, apps=["orphan", "shared"], reason="Dave runs support tooling now"
    )

    assert [(m.slug, m.orphaned) for m in result.moved] == [("orphan", True), ("shared", False)]
    orphan.refresh_from_db()
    shared.refresh_from_db()
    assert orphan.owner == dave and orphan.orphaned_at is None
    assert shared.owner == dave
    assert sorted(u.username for u in shared.co_owners.all()) == ["erin"]
    orphan_event = AuditEvent.objects.get(app=orphan)
    assert orphan_event.action == TRANSFERRED and orphan_event.actor == pat
    assert orphan_event.comment == "Dave runs support tooling now"
    assert orphan_event.changes == {"owner": ["gone", "dave"], "orphaned": [True, False]}
    assert orphan_event.data == {"from": "gone", "to": "dave", "run": result.run_id}
    shared_event = AuditEvent.objects.get(app=shared)
    assert shared_event.changes == {
        "owner": ["alice", "dave"],
        "co_owners": [["dave", "erin"], ["erin"]],
    }


def test_the_new_owner_hears_once_per_run_and_so_do_previous_owners_and_teams(
    pat, alice, dave, support_tools
):
    support_tools.webhook_url = "https://hooks.example.com/support"
    support_tools.contact_email = "support@example.com"
    support_tools.save()
    gone = UserFactory(username="gone", is_active=False)
    for index in range(3):
        MicroAppFactory(owner=alice, team=support_tools, slug=f"a-{index}")
    MicroAppFactory(owner=gone, team=support_tools, slug="from-gone")

    result = transfer(actor=pat, to=dave, team=support_tools, reason="New lead")

    to_dave = Notification.objects.get(recipient=dave)
    assert to_dave.subject == "You now own 4 apps"
    assert "a-0" not in to_dave.body and "New lead" in to_dave.body
    assert result.run_id in to_dave.dedupe_key
    assert Notification.objects.get(recipient=alice).subject == "3 of your apps moved to dave"
    assert not Notification.objects.filter(recipient=gone).exists()  # nobody would read it
    team_notes = Notification.objects.filter(team=support_tools)
    assert sorted(n.channel for n in team_notes) == ["email", "webhook"]
    assert Notification.objects.count() == 4


def _queries_for(count: int, pat, to, team) -> int:
    owner = UserFactory()
    for _ in range(count):
        app = MicroAppFactory(owner=owner, team=team)
        app.co_owners.add(to)
    with CaptureQueriesContext(connection) as queries:
        result = transfer(actor=pat, to=to, from_owner=owner, reason="Bulk")
    assert result.count == count
    return len(queries)


def test_the_query_count_does_not_grow_with_the_number_of_apps(pat, dave, support_tools):
    few = _queries_for(3, pat, dave, support_tools)
    many = _queries_for(30, pat, dave, support_tools)
    assert few == many
    assert few <= 9


def test_the_target_must_be_active(pat, alice, support_tools):
    MicroAppFactory(owner=alice, team=support_tools)
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationError) as refused:
        transfer(actor=pat, to=gone, from_owner=alice, reason="x", dry_run=True)
    assert "deactivated" in refused.value.message_dict["to"][0]


@pytest.mark.parametrize(
    "selectors",
    [{}, {"from_owner": "alice", "team": "support-tools"}, {"apps": [], "team": None}],
)
def test_exactly_one_selector_is_required(pat, alice, dave, support_tools, selectors):
    named = {
        key: alice if value == "alice" else support_tools if value == "support-tools" else value
        for key, value in selectors.items()
    }
    with pytest.raises(ValidationError) as refused:
        transfer(actor=pat, to=dave, reason="x", **named)
    assert "exactly one" in refused.value.message_dict[NON_FIELD_ERRORS][0]


def test_a_real_run_needs_a_reason(pat, alice, dave, support_tools):
    MicroAppFactory(owner=alice, team=support_tools)
    with pytest.raises(ValidationError) as refused:
        transfer(actor=pat, to=dave, from_owner=alice, reason="  ")
    assert "reason" in refused.value.message_dict
    assert MicroApp.objects.get().owner == alice


def test_listed_apps_must_exist_and_be_live(pat, alice, dave, support_tools):
    MicroAppFactory(owner=alice, team=support_tools, slug="here")
    MicroAppFactory(owner=alice, team=support_tools, slug="old", state=AppState.RETIRED)
    with pytest.raises(ValidationError) as unknown:
        transfer(actor=pat, to=dave, apps=["here", "nope"], dry_run=True)
    assert unknown.value.message_dict["apps"] == ["No such app: nope."]
    with pytest.raises(ValidationError) as retired:
        transfer(actor=pat, to=dave, apps=["here", "old"], dry_run=True)
    assert "old" in retired.value.message_dict["apps"][0]


def test_a_confirmation_refuses_when_the_selection_changed(pat, alice, dave, support_tools):
    MicroAppFactory(owner=alice, team=support_tools, slug="first")
    preview = transfer(actor=pat, to=dave, from_owner=alice, dry_run=True)
    MicroAppFactory(owner=alice, team=support_tools, slug="second")

    with pytest.raises(SelectionChanged):
        transfer(actor=pat, to=dave, from_owner=alice, reason="Moving", expect=preview.slugs)

    assert not MicroApp.objects.filter(owner=dave).exists()
    assert not AuditEvent.objects.exists()


def test_moving_apps_the_target_already_owns_writes_nothing(pat, dave, support_tools):
    MicroAppFactory(owner=dave, team=support_tools, slug="his")
    result = transfer(actor=pat, to=dave, apps=["his"], reason="Tidy up")
    assert result.count == 0 and [m.slug for m in result.unchanged] == ["his"]
    assert not AuditEvent.objects.exists() and not Notification.objects.exists()


def test_team_leads_and_other_people_are_untouched(pat, alice, dave):
    team = TeamFactory(lead=alice)
    MicroAppFactory(owner=alice, team=team)
    transfer(actor=pat, to=dave, from_owner=alice, reason="Leaving the team")
    team.refresh_from_db()
    assert team.lead == alice


@pytest.mark.django_db(transaction=True)
def test_two_identical_transfers_at_once_move_each_app_once(pat, alice, dave, support_tools):
    require_postgres(
        "needs PostgreSQL for concurrent transactions: set "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/appkeeper_transfer"
    )
    for _ in range(4):
        MicroAppFactory(owner=alice, team=support_tools)

    results, errors = twice_at_once(
        lambda: transfer(actor=pat, to=dave, from_owner=alice, reason="Both clicked").count
    )

    assert errors == []
    # The second waits for the first's row locks, then finds none of alice's apps left.
    assert sorted(results) == [0, 4]
    assert AuditEvent.objects.filter(action=TRANSFERRED).count() == 4
    assert Notification.objects.filter(recipient=dave).count() == 1
