"""The "depends on" picker: the form lists only the chosen apps, a search adds more."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.choices import AppState
from catalog.models import MicroApp
from tests.catalog.test_views import form_data
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db
PICKER = "/apps/picker/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fleet(support_tools, field_ops, alice, carol):
    def app(slug, name, team, state=AppState.ACTIVE, owner=None):
        return MicroAppFactory(slug=slug, name=name, team=team, owner=owner, state=state)

    return {
        "crm": app("crm-sync", "CRM Sync", field_ops, owner=carol),
        "billing": app("billing-bridge", "Billing Bridge", field_ops, owner=carol),
        "retired": app("crm-legacy", "CRM Legacy", field_ops, AppState.RETIRED, carol),
        "draft": app("crm-draft", "CRM Draft", field_ops, AppState.DRAFT, carol),
        "mine": app("ticket-router", "Ticket Router", support_tools, owner=alice),
    }


def slugs(response) -> list[str]:
    body = response.content.decode()
    return [a.slug for a in MicroApp.objects.order_by("name") if f"{a.slug} ·" in body]


def test_search_by_name_or_slug_finds_live_apps_the_user_can_see(client, alice, fleet):
    client.force_login(alice)

    assert slugs(client.get(PICKER, {"q": "crm"})) == ["crm-sync"]  # not retired, not a draft
    assert slugs(client.get(PICKER, {"q": "BRIDGE"})) == ["billing-bridge"]
    assert slugs(client.get(PICKER, {"q": "router"})) == ["ticket-router"]
    assert slugs(client.get(PICKER, {"q": "  "})) == []
    assert (
        "No app you can see matches “nothing”."
        in client.get(PICKER, {"q": "nothing"}).content.decode()
    )


def test_chosen_apps_and_the_app_itself_are_not_offered_again(client, alice, fleet):
    client.force_login(alice)
    chosen = fleet["crm"].pk

    found = client.get(PICKER, {"q": "r", "depends_on": [chosen], "exclude": "ticket-router"})

    assert slugs(found) == ["billing-bridge"]


def test_the_owning_team_finds_its_drafts(client, carol, fleet):
    client.force_login(carol)
    assert slugs(client.get(PICKER, {"q": "crm"})) == ["crm-draft", "crm-sync"]


def test_at_most_twenty_results_and_a_note_to_narrow(client, alice, support_tools):
    MicroAppFactory.create_batch(25, team=support_tools, state=AppState.ACTIVE)
    client.force_login(alice)

    body = client.get(PICKER, {"q": "-"}).content.decode()

    assert body.count('type="checkbox"') == 20
    assert "Showing the first 20: type more of the name to narrow." in body


def test_the_picker_needs_a_sign_in(client, fleet):
    assert client.get(PICKER, {"q": "crm"}).status_code == 302


@pytest.mark.parametrize("size", [5, 60])
def test_search_query_count_does_not_grow_with_the_fleet(
    client, alice, support_tools, django_assert_max_num_queries, size
):
    MicroAppFactory.create_batch(size, team=support_tools, state=AppState.ACTIVE)
    client.force_login(alice)
    with django_assert_max_num_queries(5):
        assert client.get(PICKER, {"q": "-"}).status_code == 200


def test_the_form_renders_only_the_chosen_apps_whatever_the_fleet(
    client, alice, fleet, support_tools
):
    mine = fleet["mine"]
    mine.depends_on.add(fleet["crm"], fleet["billing"])
    client.force_login(alice)
    edit = reverse("app-edit", args=[mine.slug])

    counts = []
    for more in (5, 60):
        MicroAppFactory.create_batch(more, team=support_tools, state=AppState.ACTIVE)
        with CaptureQueriesContext(connection) as queries:
            body = client.get(edit).content.decode()
        counts.append(len(queries))
        assert body.count('name="depends_on"') == 2  # the two chosen, ticked
        assert "CRM Sync" in body and "Billing Bridge" in body
        assert f'hx-get="/apps/picker/?exclude={mine.slug}"' in body
    assert counts[0] == counts[1]


def test_a_picked_app_is_saved_and_an_unknown_one_is_a_field_error(
    client, alice, support_tools, fleet
):
    client.force_login(alice)
    picked = form_data(support_tools, depends_on=[fleet["crm"].pk])
    response = client.post(reverse("app-create"), picked)
    assert response.status_code == 302
    assert list(MicroApp.objects.get(slug="shift-planner").depends_on.all()) == [fleet["crm"]]

    hidden = form_data(support_tools, slug="other-planner", depends_on=[fleet["draft"].pk])
    page = client.post(reverse("app-create"), hidden)
    assert page.status_code == 200
    assert "depends_on" in page.context["form"].errors
    assert not MicroApp.objects.filter(slug="other-planner").exists()
