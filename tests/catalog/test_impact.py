"""The blast radius walk: who depends on an app, how far away, through whom."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from catalog import impact
from catalog.models import Dependency
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db


def link(dependent, provider, **details):
    return Dependency.objects.create(from_microapp=dependent, to_microapp=provider, **details)


@pytest.fixture
def chain():
    """tickets <- router <- portal <- widget, and intake calls tickets too."""
    apps = {
        slug: MicroAppFactory(slug=slug, name=slug.title(), state="active")
        for slug in ("tickets", "router", "portal", "widget", "intake")
    }
    link(apps["router"], apps["tickets"], uses=["GET /tickets/{id}"])
    link(apps["portal"], apps["router"])
    link(apps["widget"], apps["portal"])
    link(apps["intake"], apps["tickets"], version_range="^1")
    return apps


def test_dependents_are_found_at_their_shortest_distance_with_the_app_they_go_through(chain):
    found = impact.dependents(chain["tickets"])
    assert [(d.app.slug, d.depth, d.via.slug if d.via else None) for d in found] == [
        ("intake", 1, None),
        ("router", 1, None),
        ("portal", 2, "router"),
        ("widget", 3, "portal"),
    ]
    router = found[1]
    assert router.uses == ["GET /tickets/{id}"]
    assert found[0].version_range == "^1"
    # A shortcut makes the widget a direct dependent: it is listed once, at depth 1.
    link(chain["widget"], chain["tickets"])
    depths = {d.app.slug: d.depth for d in impact.dependents(chain["tickets"])}
    assert depths == {"intake": 1, "router": 1, "portal": 2, "widget": 1}


def test_depth_limits_the_walk_and_a_cycle_ends(chain, settings):
    link(chain["tickets"], chain["widget"])  # tickets now calls widget: a loop of four
    assert {d.app.slug for d in impact.dependents(chain["tickets"], depth=1)} == {
        "intake",
        "router",
    }
    found = impact.dependents(chain["tickets"])
    assert sorted(d.app.slug for d in found) == ["intake", "portal", "router", "widget"]
    settings.APPKEEPER_IMPACT_MAX_DEPTH = 2
    assert sorted(d.app.slug for d in impact.dependents(chain["tickets"])) == [
        "intake",
        "portal",
        "router",
    ]


def test_drafts_and_retired_apps_neither_count_nor_carry_the_walk(chain):
    chain["portal"].state = "retired"
    chain["portal"].save()
    chain["intake"].state = "draft"
    chain["intake"].save()
    assert [d.app.slug for d in impact.dependents(chain["tickets"])] == ["router"]


def test_the_walk_costs_three_queries_whatever_the_fleet(chain, django_assert_num_queries):
    provider = chain["tickets"]
    for _ in range(30):
        link(MicroAppFactory(state="active"), provider)
    with django_assert_num_queries(3):
        assert len(impact.dependents(provider)) == 34


@pytest.mark.parametrize(
    ("change", "uses", "touches"),
    [
        ({"operation": "GET", "path": "/tickets/{ticketId}"}, ["GET /tickets/{id}"], True),
        ({"operation": "DELETE", "path": "/tickets/{ticketId}"}, ["GET /tickets/{id}"], False),
        ({"operation": "GET", "path": "/tickets"}, [], True),
        ({"operation": "", "path": "", "location": "servers"}, ["GET /tickets"], True),
        ({"operation": "", "path": "Query.tickets", "location": "schema"}, ["Query.tickets"], True),
        ({"operation": "", "path": "Query.users", "location": "schema"}, ["Query.tickets"], False),
        ({"operation": "", "path": "Ticket.status", "location": "schema"}, ["Query.tickets"], True),
    ],
)
def test_a_change_touches_the_dependents_that_call_what_it_changed(change, uses, touches):
    assert impact.change_touches(change, uses) is touches


def test_only_breaking_changes_count_as_touching():
    changes = [
        {"level": "ERR", "operation": "GET", "path": "/a"},
        {"level": "WARN", "operation": "GET", "path": "/a"},
        {"level": "ERR", "operation": "GET", "path": "/b"},
    ]
    assert impact.changes_touching(changes, ["get /a"]) == [changes[0]]


def test_declared_uses_are_checked_and_tidied():
    assert impact.clean_uses([" get  /tickets ", "Query.tickets", "GET /tickets", ""]) == [
        "GET /tickets",
        "Query.tickets",
    ]
    for bad in ("tickets", ["FETCH /tickets"], ["GET tickets"], [1], ["x" * 400]):
        with pytest.raises(ValidationError):
            impact.clean_uses(bad)


def test_the_api_answers_the_blast_radius(chain, alice, api_as, django_assert_max_num_queries):
    client = api_as(alice)
    with django_assert_max_num_queries(8):
        answer = client.get("/api/v1/apps/tickets/impact/")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["app"], body["count"], body["direct"]) == ("tickets", 4, 2)
    widget = body["dependents"][-1]
    assert widget["slug"] == "widget" and widget["depth"] == 3 and widget["via"] == "portal"
    assert set(widget["team"]) == {"slug", "name"} and widget["owner"]
    shallow = client.get("/api/v1/apps/tickets/impact/?depth=1").json()
    assert [d["slug"] for d in shallow["dependents"]] == ["intake", "router"]
    refused = client.get("/api/v1/apps/tickets/impact/?depth=99")
    assert refused.status_code == 400 and "depth" in refused.json()
    assert client.get("/api/v1/apps/no-such-app/impact/").status_code == 404
