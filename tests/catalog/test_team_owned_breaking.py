"""Breaking contract versions tell a team-owned dependent's team: its lead, else its
contact address, at upload, when the version takes effect and when it is withdrawn."""

from __future__ import annotations

from datetime import timedelta

import pytest

from catalog.models import Notification
from catalog.tasks import activate_scheduled_contracts
from tests.catalog import test_breaking_impact as breaking
from tests.catalog.test_contracts_api import v2_breaking
from tests.factories import MicroAppFactory, TeamFactory

pytestmark = pytest.mark.django_db

# The breaking-change tests' frozen clock (autouse) and provider with its version 1.0.0.
frozen = breaking.frozen
pets = breaking.pets
NOW, UPLOAD, later, link = breaking.NOW, breaking.UPLOAD, breaking.later, breaking.link


def addressees(kind):
    return sorted(
        (n.app.slug, n.recipient.username if n.recipient_id else None, n.team_id)
        for n in Notification.objects.filter(kind=kind).select_related("app", "recipient")
    )


def test_a_team_owned_dependent_hears_through_its_lead_or_its_contact(
    api_as,
    alice,
    carol,
    pets,
    frozen,
):
    led = TeamFactory(slug="led", lead=carol)
    unled = TeamFactory(slug="unled")
    for slug, team in (("portal", led), ("kiosk", unled)):
        app = MicroAppFactory(slug=slug, team=team, owner=None, state="active")
        link(app, pets, uses=["GET /pets/{id}"])
    answer = api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "effective_at": later(days=30)}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["impact"]["dependents"][0]["owner"] is None
    expected = [("kiosk", None, unled.pk), ("portal", "carol", None)]
    assert addressees("contract_breaking") == expected

    frozen.move_to(NOW + timedelta(days=30, minutes=5))
    assert activate_scheduled_contracts() == 1
    assert [(a[0], a[1]) for a in addressees("contract_effective")] == [
        ("kiosk", None),
        ("portal", "carol"),
    ]
    assert Notification.objects.get(kind="contract_effective", app__slug="kiosk").team == unled


def test_a_withdrawal_reaches_the_same_team_contact(api_as, alice, pets):
    unled = TeamFactory(slug="unled")
    app = MicroAppFactory(slug="kiosk", team=unled, owner=None, state="active")
    link(app, pets, uses=["GET /pets/{id}"])
    answer = api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "effective_at": later(days=30)}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    withdrawn = api_as(alice).post(
        "/api/v1/apps/pets/contracts/2.0.0/withdraw/", {"reason": "Not needed"}, format="json"
    )
    assert withdrawn.status_code == 200, withdrawn.json()
    assert addressees("contract_withdrawn") == [("kiosk", None, unled.pk)]
