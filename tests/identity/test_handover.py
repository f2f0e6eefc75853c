"""A leaver's apps go to a co-owner, else the team lead, else are flagged orphaned."""

from __future__ import annotations

import pytest

from catalog.choices import AppState
from catalog.models import AuditEvent, Notification
from catalog.ownership import HANDED_OVER, ORPHANED
from identity import people
from identity.models import DeactivatedVia, Person
from tests.factories import MicroAppFactory, TeamFactory, UserFactory, add_to_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaver():
    return UserFactory(username="leaver")


def test_the_first_active_co_owner_takes_the_app_over(leaver):
    gone, stays = UserFactory(is_active=False), UserFactory(username="stays")
    app = MicroAppFactory(owner=leaver, state=AppState.ACTIVE)
    app.co_owners.add(gone, stays)

    people.deactivate(leaver, actor=None, via=DeactivatedVia.SCIM)

    app.refresh_from_db()
    assert app.owner == stays
    assert list(app.co_owners.all()) == [gone]
    assert app.orphaned_at is None
    event = AuditEvent.objects.get(app=app, action=HANDED_OVER)
    assert event.changes["owner"] == ["leaver", "stays"]
    assert event.data == {"from": "leaver", "to": "stays", "via": "scim"}
    assert Notification.objects.filter(app=app, recipient=stays, kind="owner_handed_over").exists()
    person = Person.objects.get(user=leaver)
    assert person.deactivated_via == "scim" and person.deactivated_at is not None


def test_without_co_owners_the_team_lead_takes_over(leaver):
    lead = UserFactory(username="lead")
    app = MicroAppFactory(owner=leaver, team=TeamFactory(lead=lead), state=AppState.ACTIVE)

    leaver.is_active = False
    leaver.save()  # the Django admin's way

    app.refresh_from_db()
    assert app.owner == lead
    assert AuditEvent.objects.get(app=app, action=HANDED_OVER).data["via"] == "admin"


def test_nobody_left_flags_the_app_orphaned_and_tells_the_platform_team(leaver):
    platform = add_to_group(UserFactory(), "platform-team")
    team = TeamFactory(lead=leaver)
    app = MicroAppFactory(owner=leaver, team=team, state=AppState.ACTIVE)
    retired = MicroAppFactory(owner=leaver, team=team, state=AppState.RETIRED)

    people.deactivate(leaver, actor=platform, via=DeactivatedVia.ADMIN)

    app.refresh_from_db()
    team.refresh_from_db()
    assert app.owner == leaver and app.orphaned_at is not None
    assert team.lead is None
    assert AuditEvent.objects.get(app=app, action=ORPHANED).actor == platform
    assert Notification.objects.filter(app=app, recipient=platform, kind="app_orphaned").exists()
    assert Notification.objects.filter(app=app, team=team, kind="app_orphaned").exists()
    retired.refresh_from_db()
    assert retired.orphaned_at is None


def test_deactivating_twice_hands_over_once(leaver):
    app = MicroAppFactory(owner=leaver, state=AppState.ACTIVE)
    people.deactivate(leaver, actor=None, via=DeactivatedVia.SCIM)
    people.deactivate(leaver, actor=None, via=DeactivatedVia.SCIM)
    leaver.save()
    assert AuditEvent.objects.filter(app=app, action=ORPHANED).count() == 1


def test_a_sign_in_stamp_costs_no_extra_query(leaver, django_assert_num_queries):
    with django_assert_num_queries(1):
        leaver.save(update_fields=["last_login"])


def test_the_admin_shows_where_an_account_came_from_and_why_it_was_switched_off(client, leaver):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    people.deactivate(leaver, actor=admin_user, via=DeactivatedVia.SCIM)
    client.force_login(admin_user)

    page = client.get(f"/admin/auth/user/{leaver.pk}/change/")

    assert page.status_code == 200
    assert "Provisioning (SCIM)" in page.content.decode()
    listing = client.get("/admin/auth/user/?person__source__exact=local")
    assert listing.status_code == 200


def test_the_team_hears_who_took_over(leaver):
    lead = UserFactory(username="lead")
    team = TeamFactory(lead=lead)
    app = MicroAppFactory(owner=leaver, team=team, state=AppState.ACTIVE)

    people.deactivate(leaver, actor=None, via=DeactivatedVia.OIDC)

    told = Notification.objects.get(app=app, team=team, kind=HANDED_OVER)
    assert told.subject == f"{app.name} has a new owner" and "lead now owns" in told.body
    team.refresh_from_db()
    assert team.lead == lead  # someone else's lead role is untouched


def test_leading_teams_ends_with_the_account_and_touches_the_team(leaver):
    team = TeamFactory(lead=leaver)
    stamp = team.updated_at

    people.deactivate(leaver, actor=None, via=DeactivatedVia.SCIM)

    team.refresh_from_db()
    assert team.lead is None and team.updated_at > stamp
