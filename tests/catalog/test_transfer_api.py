"""``POST /api/v1/apps/transfer/``: who may, what it answers, and its field errors."""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import AuditEvent, MicroApp
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/apps/transfer/"


@pytest.fixture
def fleet(alice, support_tools):
    gone = UserFactory(username="gone", is_active=False)
    MicroAppFactory(owner=alice, team=support_tools, slug="alpha", name="Alpha")
    MicroAppFactory(
        owner=gone, team=support_tools, slug="orphan", name="Orphan", orphaned_at=timezone.now()
    )
    MicroAppFactory(owner=alice, team=support_tools, slug="old", state=AppState.RETIRED)
    return gone


def test_a_dry_run_answers_what_would_move(api_as, pat, bob, fleet):
    response = api_as(pat).post(
        URL, {"from_owner": "alice", "to": "bob", "dry_run": True}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "dry_run": True,
        "count": 1,
        "moved": [
            {
                "slug": "alpha",
                "name": "Alpha",
                "team": "support-tools",
                "team_name": "Support Tools",
                "from": "alice",
                "to": "bob",
                "orphaned": False,
            }
        ],
        "unchanged": [],
    }
    assert not AuditEvent.objects.exists()


def test_a_real_run_moves_the_listed_apps(api_as, pat, bob, fleet):
    response = api_as(pat).post(
        URL, {"apps": ["orphan", "alpha"], "to": "bob", "reason": "Bob took over"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] is False and body["count"] == 2
    assert [m["orphaned"] for m in body["moved"]] == [False, True]
    assert set(MicroApp.objects.filter(owner=bob).values_list("slug", flat=True)) == {
        "alpha",
        "orphan",
    }
    assert AuditEvent.objects.filter(comment="Bob took over").count() == 2


@pytest.mark.parametrize("who", ["alice", "bob", "fin"])
def test_only_the_platform_team_may(api_as, who, alice, bob, fin, fleet):
    user = {"alice": alice, "bob": bob, "fin": fin}[who]
    response = api_as(user).post(
        URL, {"from_owner": "alice", "to": "bob", "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert MicroApp.objects.get(slug="alpha").owner == alice


def test_anonymous_callers_are_refused(api, fleet):
    assert api.post(URL, {"from_owner": "alice", "to": "bob"}, format="json").status_code == 401


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"from_owner": "nobody", "to": "bob"}, "from_owner", "No one is called “nobody”."),
        ({"team": "no-team", "to": "bob"}, "team", "No team is called “no-team”."),
        ({"apps": ["alpha", "nope"], "to": "bob"}, "apps", "No such app: nope."),
        ({"apps": ["old"], "to": "bob"}, "apps", "Retired apps keep their owner"),
        ({"apps": [], "to": "bob"}, "apps", "Ensure this field has at least 1 elements."),
        ({"from_owner": "alice", "to": "gone"}, "to", "gone is deactivated"),
        ({"from_owner": "alice", "to": "nobody"}, "to", "No one is called “nobody”."),
        ({"from_owner": "alice"}, "to", "This field is required."),
        ({"to": "bob"}, "non_field_errors", "Choose exactly one of"),
        ({"from_owner": "alice", "team": "support-tools", "to": "bob"}, "non_field_errors", ""),
        ({"from_owner": "alice", "to": "bob", "dry_run": False}, "reason", "Say why"),
        ({"from_owner": "alice", "to": "bob", "dry_run": "yes"}, "dry_run", ""),
    ],
)
def test_bad_bodies_get_field_errors(api_as, pat, bob, fleet, body, field, message):
    # A dry run unless the case is about dry_run: a real run would also want a reason.
    response = api_as(pat).post(URL, {"dry_run": True, **body}, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert message in errors[field][0]
    assert MicroApp.objects.get(slug="alpha").owner.username == "alice"


def test_the_route_is_not_read_as_an_app_slug(api_as, pat):
    assert api_as(pat).get(URL).status_code == 405  # not read as GET /apps/{slug}/


def test_the_schema_documents_the_operation_with_its_errors():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/apps/transfer/"]["post"]
    assert operation["operationId"] == "apps_transfer"
    assert {"200", "400", "403"} <= set(operation["responses"])
    request = schema["components"]["schemas"]["TransferRequest"]
    assert request["required"] == ["to"]
    result = schema["components"]["schemas"]["TransferResult"]
    assert result["required"] == ["count", "dry_run", "moved", "unchanged"]


def test_the_query_count_does_not_grow_with_the_apps(
    api_as, pat, bob, support_tools, django_assert_max_num_queries
):
    owner = UserFactory(username="leaving")
    for _ in range(3):
        MicroAppFactory(owner=owner, team=support_tools)
    client = api_as(pat)
    body = {"from_owner": "leaving", "to": "bob", "reason": "Leaving"}
    with django_assert_max_num_queries(30) as few:
        assert client.post(URL, body, format="json").status_code == 200
    for _ in range(30):
        MicroAppFactory(owner=bob, team=support_tools).save()
    MicroApp.objects.filter(owner=bob).update(owner=owner)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.post(URL, body, format="json").json()["count"] == 33
