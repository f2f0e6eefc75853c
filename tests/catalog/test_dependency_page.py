"""The dependency details as people see and edit them: the app page's Dependencies section
and /apps/<slug>/dependencies/."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from catalog.models import AuditEvent, Contract, Dependency
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

OPENAPI = {
    "openapi": "3.0.3",
    "paths": {
        "/tickets": {"get": {}, "post": {}},
        "/tickets/{id}": {"get": {}, "delete": {}},
    },
}


def contract(app, version, *, at, kind="openapi", document=None, sdl=""):
    return Contract.objects.create(
        app=app,
        kind=kind,
        version=version,
        document=document if kind == "openapi" else None,
        sdl=sdl,
        sha256=Contract.digest(f"{app.slug}-{version}"),
        created_at=at,
    )


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def fleet(alice, carol, support_tools, field_ops):
    """router (alice's team) calls tickets (carol's team, contract 2.0.0 since 10 Nov)."""
    router = MicroAppFactory(
        slug="router", name="Router", team=support_tools, owner=alice, state="active"
    )
    tickets = MicroAppFactory(
        slug="tickets", name="Tickets", team=field_ops, owner=carol, state="active"
    )
    contract(tickets, "1.4.0", at=NOW - timedelta(days=90), document=OPENAPI)
    contract(tickets, "2.0.0", at=NOW - timedelta(days=20), document=OPENAPI)
    Dependency.objects.create(
        from_microapp=router,
        to_microapp=tickets,
        uses=["GET /tickets/{id}", "POST /tickets"],
        version_range="^1",
    )
    return {"router": router, "tickets": tickets}


def page(slug):
    return reverse("app-dependencies", args=[slug])


def fields(form_prefix, **values):
    data = {
        f"{form_prefix}-other_uses": "",
        f"{form_prefix}-version_range": "",
    }
    for key, value in values.items():
        data[f"{form_prefix}-{key}"] = value
    return data


def test_the_dependents_page_says_it_is_pinned_behind_its_provider(signed_in, alice, fleet):
    body = signed_in(alice).get(fleet["router"].get_absolute_url()).content.decode()

    assert "Pinned to <code>^1</code>; Tickets is at 2.0.0" in body
    assert "Behind" in body
    assert "<code>GET /tickets/{id}</code>, <code>POST /tickets</code>" in body
    assert page("router") in body  # the owner may say how it uses its dependencies

    fleet["tickets"].state = "retired"
    fleet["tickets"].save(update_fields=["state"])
    body = signed_in(alice).get(fleet["router"].get_absolute_url()).content.decode()
    assert "Pinned to <code>^1</code>" in body and "Behind" not in body


@time_machine.travel(NOW, tick=False)
def test_the_providers_page_counts_the_dependents_left_behind(
    signed_in, alice, carol, support_tools, field_ops, fleet
):
    tickets = fleet["tickets"]
    for slug, state, version_range in [
        ("intake", "active", "^1"),
        ("mailer", "expired", "^1"),
        ("portal", "active", "~1.4"),
        ("modern", "active", "^2"),
        ("drafty", "draft", "^1"),  # a draft calls nothing yet: not counted
        ("gone", "retired", "^1"),
    ]:
        dependent = MicroAppFactory(
            slug=slug, name=slug.title(), team=field_ops, owner=carol, state=state
        )
        Dependency.objects.create(
            from_microapp=dependent, to_microapp=tickets, version_range=version_range
        )

    text = re.sub(r"\s+", " ", signed_in(carol).get(tickets.get_absolute_url()).content.decode())

    assert (
        "3 dependents pinned to <code>^1</code> while 2.0.0 is current since 10 Nov 2026: " in text
    )
    assert (
        '">Intake</a>, <a href="/apps/mailer/">Mailer</a>, <a href="/apps/router/">Router</a>.'
        in text
    )
    assert "1 dependent pinned to <code>~1.4</code>" in text
    assert "Modern</a>" in text and "pinned to <code>^2</code> while" not in text
    assert "Drafty" in text  # listed among the callers, but not counted as left behind
    # Who cannot edit the dependent is not offered its dependency page.
    assert page("router") not in text


def test_the_page_offers_the_providers_operations_and_keeps_the_typed_ones(signed_in, alice, fleet):
    Dependency.objects.filter(to_microapp=fleet["tickets"]).update(
        uses=["GET /tickets/{id}", "GET /legacy"]
    )

    response = signed_in(alice).get(page("router"))

    assert response.status_code == 200
    body = response.content.decode()
    for operation in ["GET /tickets", "POST /tickets", "GET /tickets/{id}", "DELETE /tickets/{id}"]:
        assert f'value="{operation}"' in body
    assert re.search(r'value="GET /tickets/\{id\}"[^>]*checked', body)
    assert not re.search(r'value="POST /tickets"[^>]*checked', body)
    assert re.search(r"<textarea[^>]*tickets-other_uses[^>]*>\s*GET /legacy</textarea>", body)
    assert 'value="^1"' in body
    assert "Current contract: <strong>2.0.0</strong>" in body
    assert "Pinned to ^1: behind 2.0.0" in body


def test_saving_writes_the_details_and_records_them_in_the_history(signed_in, alice, fleet):
    client = signed_in(alice)
    data = {
        "listed": "tickets",
        "tickets-uses": ["GET /tickets", "DELETE /tickets/{id}"],
        **fields("tickets", other_uses="Query.tickets\n\n", version_range=" ^2 "),
    }

    response = client.post(page("router"), data)

    assert response.status_code == 302
    assert response["Location"] == "/apps/router/#deps-title"
    link = Dependency.objects.get(from_microapp=fleet["router"])
    assert link.uses == ["GET /tickets", "DELETE /tickets/{id}", "Query.tickets"]
    assert link.version_range == "^2"
    event = AuditEvent.objects.get(app=fleet["router"], action="updated")
    assert event.actor == alice
    assert event.changes["dependency_details"][1] == {
        "tickets": {
            "uses": ["GET /tickets", "DELETE /tickets/{id}", "Query.tickets"],
            "version_range": "^2",
        }
    }
    body = client.get(fleet["router"].get_absolute_url()).content.decode()
    assert "Saved how Router uses its dependencies." in body
    # The History reads it as words, not as a data structure.
    assert (
        "<code>dependency_details</code>: tickets (^1; GET /tickets/{id}, POST /tickets) → "
        "tickets (^2; GET /tickets, DELETE /tickets/{id}, Query.tickets)"
    ) in body
    assert "Behind" not in body


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"version_range": "newest"}, "version_range", "is not a version range"),
        ({"version_range": ">=3,<2"}, "version_range", "allows no version"),
        ({"other_uses": "FETCH /tickets"}, "other_uses", "FETCH is not an HTTP method"),
        ({"other_uses": "tickets please"}, "other_uses", "write an operation as"),
    ],
)
def test_a_bad_value_is_an_inline_error_and_nothing_is_saved(
    signed_in, alice, fleet, values, field, message
):
    response = signed_in(alice).post(
        page("router"), {"listed": "tickets", **fields("tickets", **values)}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="error-summary"' in body
    assert f'href="#id_tickets-{field}"' in body
    error_box = re.search(rf'id="id_tickets-{field}_errors">(.*?)</div>', body, re.S)
    assert error_box and message in error_box.group(1).replace("&quot;", '"')
    control = re.search(rf'<(input|textarea)[^>]*id="id_tickets-{field}"[^>]*>', body).group(0)
    assert "aria-invalid" in control and f"id_tickets-{field}_errors" in control
    link = Dependency.objects.get(from_microapp=fleet["router"])
    assert (link.uses, link.version_range) == (["GET /tickets/{id}", "POST /tickets"], "^1")
    assert not AuditEvent.objects.filter(app=fleet["router"]).exists()


def test_a_page_opened_before_the_dependencies_changed_saves_nothing(
    signed_in, alice, support_tools, fleet
):
    mailer = MicroAppFactory(slug="mailer", team=support_tools, state="active")
    Dependency.objects.create(from_microapp=fleet["router"], to_microapp=mailer, uses=["GET /m"])

    response = signed_in(alice).post(
        page("router"), {"listed": "tickets", **fields("tickets", version_range="^2")}
    )

    assert response.status_code == 400
    assert "changed since this page was opened" in response.content.decode()
    assert Dependency.objects.get(to_microapp=mailer).uses == ["GET /m"]
    assert Dependency.objects.get(to_microapp=fleet["tickets"]).version_range == "^1"


def test_a_link_to_an_invisible_draft_is_neither_shown_nor_touched(
    signed_in, alice, carol, field_ops, fleet
):
    secret = MicroAppFactory(slug="secret", name="Secret", team=field_ops, owner=carol)
    Dependency.objects.create(
        from_microapp=fleet["router"], to_microapp=secret, uses=["GET /s"], version_range="1"
    )
    client = signed_in(alice)

    assert "secret" not in client.get(page("router")).content.decode().lower()
    client.post(page("router"), {"listed": "tickets", **fields("tickets", version_range="^2")})

    hidden = Dependency.objects.get(to_microapp=secret)
    assert (hidden.uses, hidden.version_range) == (["GET /s"], "1")
    assert Dependency.objects.get(to_microapp=fleet["tickets"]).version_range == "^2"


def test_graphql_providers_offer_their_root_fields(signed_in, alice, support_tools, fleet):
    graph = MicroAppFactory(slug="graph", name="Graph", team=support_tools, state="active")
    contract(
        graph,
        "1",
        at=NOW,
        kind="graphql",
        sdl="type Query { tickets: [String] ticket(id: ID!): String }\n"
        "type Mutation { closeTicket(id: ID!): String }",
    )
    fleet["router"].depends_on.add(graph)

    body = signed_in(alice).get(page("router")).content.decode()

    for operation in ["Query.tickets", "Query.ticket", "Mutation.closeTicket"]:
        assert f'value="{operation}"' in body
    # Two dependencies, two sets of fields: every id on the page is its own.
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert len(ids) == len(set(ids))
    assert 'id="field-graph-uses"' in body and 'id="field-tickets-uses"' in body


def test_only_who_may_edit_the_app_opens_the_page(signed_in, bob, carol, pat, fleet):
    assert signed_in(bob).get(page("router")).status_code == 200  # same team
    assert signed_in(pat).get(page("router")).status_code == 200  # platform team
    assert signed_in(carol).get(page("router")).status_code == 403
    assert signed_in(carol).post(page("router"), {"listed": "tickets"}).status_code == 403
    assert signed_in(carol).get(page("no-such-app")).status_code == 404


def test_an_app_without_dependencies_says_where_to_add_them(signed_in, alice, support_tools):
    MicroAppFactory(slug="alone", name="Alone", team=support_tools, state="active")

    body = signed_in(alice).get(page("alone")).content.decode()

    assert "Alone calls no other app" in body
    assert reverse("app-edit", args=["alone"]) in body


def test_the_page_and_the_app_page_do_not_grow_with_the_dependencies(
    signed_in, alice, support_tools, fleet, django_assert_max_num_queries
):
    router = fleet["router"]
    contract(router, "3.0.0", at=NOW, document=OPENAPI)
    client = signed_in(alice)

    def add(count):
        for index in range(count):
            provider = MicroAppFactory(team=support_tools, state="active")
            contract(provider, f"{index}.0.0", at=NOW, document=OPENAPI)
            Dependency.objects.create(
                from_microapp=router, to_microapp=provider, version_range="^1"
            )
            dependent = MicroAppFactory(team=support_tools, state="active")
            Dependency.objects.create(
                from_microapp=dependent, to_microapp=router, version_range="^1"
            )

    def measure():
        client.get(router.get_absolute_url())  # caches that are not per request
        with django_assert_max_num_queries(50) as edit:
            assert client.get(page("router")).status_code == 200
        with django_assert_max_num_queries(50) as detail:
            body = client.get(router.get_absolute_url()).content.decode()
        return len(edit.captured_queries), len(detail.captured_queries), body

    add(2)
    few = measure()
    add(20)
    many = measure()

    assert few[:2] == many[:2]
    # The session, the user, the app, whether the user may edit it, the links, which
    # providers the user may see and their current contracts.
    assert many[0] <= 8
    assert "2 dependents pinned to <code>^1</code>" in few[2]
    assert "22 dependents pinned to <code>^1</code>" in many[2]


def test_the_edit_form_keeps_the_details_of_the_dependencies_that_stay(
    signed_in, alice, support_tools, fleet
):
    router, tickets = fleet["router"], fleet["tickets"]
    mailer = MicroAppFactory(slug="mailer", team=support_tools, state="active")
    Dependency.objects.create(from_microapp=router, to_microapp=mailer, version_range="2")
    form = {
        "name": "Router",
        "kind": router.kind,
        "environment": router.environment,
        "criticality": router.criticality,
        "team": support_tools.pk,
        "owner": alice.pk,
        "sla_availability": "99.5",
        "sla_p95_ms": "300",
        "sla_support_hours": "business",
        "depends_on": [tickets.pk],  # mailer is dropped, tickets stays
    }

    response = signed_in(alice).post(reverse("app-edit", args=["router"]), form)

    assert response.status_code == 302, response.context["form"].errors
    link = Dependency.objects.get(from_microapp=router)
    assert link.to_microapp == tickets
    assert (link.uses, link.version_range) == (["GET /tickets/{id}", "POST /tickets"], "^1")
    event = AuditEvent.objects.get(app=router, action="updated")
    assert event.changes["depends_on"] == [["mailer", "tickets"], ["tickets"]]
    assert event.changes["dependency_details"][0]["mailer"] == {"uses": [], "version_range": "2"}
    assert "mailer" not in event.changes["dependency_details"][1]
