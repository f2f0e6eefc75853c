"""The blast radius page: who breaks if an app does, summed up, drawn and listed by depth."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import blast_radius
from catalog.models import Dependency
from tests.factories import MicroAppFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def link(dependent, provider, **details):
    return Dependency.objects.create(from_microapp=dependent, to_microapp=provider, **details)


@pytest.fixture
def chain(support_tools, field_ops, alice, carol):
    """tickets <- router <- portal <- widget; intake (field ops, critical) calls tickets."""
    made = {}
    for slug, team, owner, criticality in [
        ("tickets", support_tools, alice, "standard"),
        ("router", support_tools, alice, "standard"),
        ("portal", support_tools, alice, "prototype"),
        ("widget", field_ops, carol, "standard"),
        ("intake", field_ops, carol, "critical"),
    ]:
        made[slug] = MicroAppFactory(
            slug=slug,
            name=slug.title(),
            state="active",
            team=team,
            owner=owner,
            criticality=criticality,
        )
    link(made["router"], made["tickets"], uses=["GET /tickets/{id}"], version_range="^2")
    link(made["portal"], made["router"])
    link(made["widget"], made["portal"])
    link(made["intake"], made["tickets"])
    return made


def page(client, slug, **query):
    return client.get(reverse("app-impact", args=[slug]), query)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_page_sums_up_draws_and_lists_every_dependent_by_depth(client, chain, bob):
    client.force_login(bob)
    response = page(client, "tickets")
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(html)
    assert "4 apps depend on it 3 levels deep" in text
    assert "2 call it directly" in text
    assert "2 teams to warn Field Ops, Support Tools" in text or (
        "2 teams to warn Support Tools, Field Ops" in text
    )
    assert "Critical the most critical 1 app" in text
    # One table group per depth, nearest first, each row with its team, owner and route.
    groups = re.findall(r'id="blast-depth-(\d+)"', html)
    assert groups == ["1", "2", "3"]
    assert text.index("Intake") < text.index("Portal") < text.index("3 steps away")
    assert "GET /tickets/{id}" in text and "Pinned to ^2" in text
    assert "Everything (none declared)" in text  # intake declared nothing
    assert "Indirect" in text and ">Portal</a>" in html  # the widget calls the portal
    # The picture: the app and its four dependents, an arrow per call among them.
    assert html.count('class="topo-node ') == 5
    assert html.count('class="topo-edge') == 4
    assert 'href="/apps/widget/"' in html
    assert "more app" not in text


def test_the_depth_selector_limits_the_walk_and_refuses_what_it_does_not_offer(
    client, chain, alice
):
    client.force_login(alice)
    text = text_of(page(client, "tickets", depth=1).content.decode())
    assert "2 apps depend on it within 1 level" in text
    assert "Widget" not in text and "Portal" not in text

    refused = page(client, "tickets", depth=99)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert 'aria-invalid="true" aria-describedby="id_depth_errors"' in html
    assert 'id="id_depth_errors"' in html and "Choose between 1 and 10 levels" in html
    assert "4 apps depend on it" in text_of(html)  # the whole radius, as the error says


def test_htmx_gets_only_the_results(client, chain, alice):
    client.force_login(alice)
    response = client.get(
        reverse("app-impact", args=["tickets"]),
        {"depth": 2},
        headers={"HX-Request": "true", "HX-Target": "blast-radius"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="blast-radius"')
    assert "<form" not in html and "3 apps depend on it within 2 levels" in text_of(html)
    assert "HX-Request" in response["Vary"]


def test_an_app_nobody_depends_on_says_so(client, chain, alice):
    client.force_login(alice)
    text = text_of(page(client, "widget").content.decode())
    assert "No live app depends on Widget" in text
    assert "Every dependent" not in text


def test_drafts_and_retired_apps_are_not_in_the_radius(client, chain, alice):
    link(MicroAppFactory(state="draft", name="Sketch"), chain["tickets"])
    link(MicroAppFactory(state="retired", name="Old Portal"), chain["tickets"])
    client.force_login(alice)
    text = text_of(page(client, "tickets").content.decode())
    assert "4 apps depend on it" in text
    assert "Sketch" not in text and "Old Portal" not in text


def test_whoever_cannot_see_the_app_gets_a_404_like_the_app_page(client, carol, alice):
    draft = MicroAppFactory(state="draft", team=alice.appkeeper_teams.get(), owner=alice)
    client.force_login(carol)
    assert page(client, draft.slug).status_code == 404
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert page(client, "no-such-app").status_code == 404
    client.force_login(alice)
    assert page(client, draft.slug).status_code == 200
    client.logout()
    assert page(client, draft.slug).status_code == 302


def test_the_app_page_links_to_the_blast_radius_with_its_size(client, chain, bob):
    client.force_login(bob)
    html = client.get(chain["tickets"].get_absolute_url()).content.decode()
    assert '<a href="/apps/tickets/impact/">Blast radius: 4 apps</a>' in html
    html = client.get(chain["widget"].get_absolute_url()).content.decode()
    assert '<a href="/apps/widget/impact/">Blast radius: 0 apps</a>' in html


def test_the_app_page_walks_the_graph_only_for_an_app_someone_calls(client, chain, bob):
    client.force_login(bob)
    client.get(chain["widget"].get_absolute_url())  # warm per-process caches

    def walks(app) -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get(app.get_absolute_url())
        return sum("WITH RECURSIVE" in q["sql"] for q in queries.captured_queries)

    assert walks(chain["widget"]) == 0
    assert walks(chain["tickets"]) == 1


def test_the_picture_draws_the_nearest_and_says_how_many_more(client, chain, alice):
    team = TeamFactory()
    owner = UserFactory()
    for index in range(blast_radius.DRAWN_LIMIT + 5):
        link(
            MicroAppFactory(state="active", team=team, owner=owner, name=f"Caller {index:03}"),
            chain["widget"],
        )
    client.force_login(alice)
    html = page(client, "tickets").content.decode()
    text = text_of(html)
    assert f"The picture shows the nearest {blast_radius.DRAWN_LIMIT}" in text
    assert "9 more apps are in the table below" in text  # 69 dependents, 60 drawn
    assert html.count('class="topo-node ') == blast_radius.DRAWN_LIMIT + 1
    assert html.count('class="cell-app"') == blast_radius.DRAWN_LIMIT + 9


def test_the_layout_puts_each_dependent_one_column_per_step_and_arrows_at_callees(chain):
    from catalog import impact

    found = impact.dependents(chain["tickets"])
    drawn = blast_radius.picture(chain["tickets"], found)
    columns = {node.slug: node.x for node in drawn["nodes"]}
    root = drawn["root"]
    assert root.x < columns["intake"] == columns["router"] < columns["portal"] < columns["widget"]
    assert len({(n.x, n.y) for n in drawn["nodes"]}) == 4
    assert sum(edge["direct"] for edge in drawn["edges"]) == 2  # intake and router
    assert drawn["width"] >= columns["widget"] + drawn["box_w"]


@pytest.mark.parametrize("extra", [0, 40])
def test_the_page_costs_the_same_queries_whatever_the_radius(
    client, chain, alice, extra, django_assert_max_num_queries
):
    team = TeamFactory()
    owner = UserFactory()
    callers = [MicroAppFactory(state="active", team=team, owner=owner) for _ in range(extra)]
    for index, caller in enumerate(callers):
        # A second and third level, and calls within a level, to draw and to list.
        link(caller, callers[index // 3] if index >= 3 else chain["widget"])
        if index >= 6:
            link(caller, callers[index - 1])
    client.force_login(alice)
    page(client, "tickets")  # warm per-process caches
    with django_assert_max_num_queries(BASELINE_QUERIES) as queries:
        response = page(client, "tickets")
    assert response.status_code == 200
    assert text_of(response.content.decode()).count("depend on it") == 1
    assert len(queries) == BASELINE_QUERIES


# Session, user, their groups, the app, the walk, the dependents with team and owner, the
# direct links' details, the calls among the drawn apps, and the user's teams (navigation).
BASELINE_QUERIES = 9
