"""Co-owners and team leads over the API: read, written through the services (so the audit
trail has them), refused with a field-level 400 when the person cannot answer for it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog.models import AuditEvent
from tests.factories import MicroAppFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/apps/"


@pytest.fixture
def app(alice, support_tools):
    return MicroAppFactory(slug="router", team=support_tools, owner=alice, state="active")


def test_the_app_reads_its_owner_co_owners_and_orphaned_flag(api_as, alice, app):
    app.co_owners.add(UserFactory(username="zed"), UserFactory(username="amy"))

    body = api_as(alice).get(f"{URL}router/").json()

    assert body["owner"] == "alice"
    assert body["co_owners"] == ["amy", "zed"]
    assert body["orphaned"] is False and body["orphaned_at"] is None
    row = api_as(alice).get(URL, {"fields": "slug,co_owners,orphaned"}).json()["results"][0]
    assert row == {"slug": "router", "co_owners": ["amy", "zed"], "orphaned": False}


def test_co_owners_are_written_and_audited(api_as, alice, app):
    UserFactory(username="dana"), UserFactory(username="eve")

    response = api_as(alice).patch(f"{URL}router/", {"co_owners": ["dana", "eve"]}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["co_owners"] == ["dana", "eve"]
    event = AuditEvent.objects.filter(app=app, action="updated").latest("pk")
    assert event.changes == {"co_owners": [[], ["dana", "eve"]]}


def test_naming_the_owner_as_co_owner_is_dropped_silently(api_as, alice, app):
    UserFactory(username="dana")

    response = api_as(alice).patch(f"{URL}router/", {"co_owners": ["alice", "dana"]}, format="json")

    assert response.status_code == 200
    assert response.json()["co_owners"] == ["dana"]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["ghost"], "Object with username=ghost does not exist."),
        (["gone"], "gone is deactivated."),
    ],
)
def test_unknown_or_deactivated_co_owners_are_a_field_error(api_as, alice, app, names, message):
    UserFactory(username="gone", is_active=False)

    response = api_as(alice).patch(f"{URL}router/", {"co_owners": names}, format="json")

    assert response.status_code == 400
    assert message in str(response.json()["co_owners"])
    assert not app.co_owners.exists()


def test_registering_with_co_owners(api_as, alice, support_tools):
    UserFactory(username="dana")
    payload = {
        "slug": "fresh",
        "name": "Fresh",
        "kind": "integration",
        "team": "support-tools",
        "environment": "staging",
        "co_owners": ["dana"],
    }

    response = api_as(alice).post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["co_owners"] == ["dana"]
    created = AuditEvent.objects.get(app__slug="fresh", action="created")
    assert created.changes["co_owners"] == [None, ["dana"]]


def test_giving_an_orphaned_app_an_owner_clears_the_flag(api_as, pat, app, bob):
    app.orphaned_at = timezone.now()
    app.save(update_fields=["orphaned_at"])
    app.co_owners.add(bob)

    response = api_as(pat).patch(f"{URL}router/", {"owner": "bob"}, format="json")

    assert response.status_code == 200
    assert response.json()["orphaned"] is False
    assert response.json()["co_owners"] == []  # bob is the owner now, not listed twice
    event = AuditEvent.objects.filter(app=app, action="updated").latest("pk")
    assert event.changes["orphaned"] == [True, False]
    assert event.changes["owner"] == ["alice", "bob"]


def test_the_detail_stays_flat_with_many_co_owners(
    api_as, alice, app, django_assert_max_num_queries
):
    client = api_as(alice)
    client.get(f"{URL}router/")  # the caller's groups, cached for the rest of the test
    app.co_owners.add(*UserFactory.create_batch(40))

    with django_assert_max_num_queries(5):
        assert len(client.get(f"{URL}router/").json()["co_owners"]) == 40


def test_the_platform_team_sets_a_team_lead(api_as, pat, alice, bob):
    client = api_as(pat)

    response = client.patch("/api/v1/teams/support-tools/", {"lead": "bob"}, format="json")

    assert response.status_code == 200
    assert client.get("/api/v1/teams/support-tools/").json()["lead"] == "bob"
    cleared = client.patch("/api/v1/teams/support-tools/", {"lead": None}, format="json")
    assert cleared.json()["lead"] is None


def test_a_deactivated_team_lead_is_refused(api_as, pat, support_tools):
    UserFactory(username="gone", is_active=False)

    response = api_as(pat).patch("/api/v1/teams/support-tools/", {"lead": "gone"}, format="json")

    assert response.status_code == 400
    assert response.json()["lead"] == ["gone is deactivated."]


def test_only_the_platform_team_sets_a_lead(api_as, alice):
    response = api_as(alice).patch("/api/v1/teams/support-tools/", {"lead": "alice"}, format="json")

    assert response.status_code == 403


def test_the_team_list_stays_flat_with_leads(
    api_as, alice, django_assert_max_num_queries, support_tools
):
    for _ in range(10):
        TeamFactory(lead=UserFactory()).members.add(UserFactory(), UserFactory())
    client = api_as(alice)

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/teams/", {"page_size": 100})

    assert response.status_code == 200
    assert sum(1 for t in response.json()["results"] if t["lead"]) == 10


def test_a_deactivated_owner_is_named_as_such(api_as, pat, app):
    UserFactory(username="gone", is_active=False)

    response = api_as(pat).patch(f"{URL}router/", {"owner": "gone"}, format="json")

    assert response.status_code == 400
    assert response.json()["owner"] == ["gone is deactivated."]
