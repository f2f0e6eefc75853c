"""The platform team's page mapping directory groups to roles (/settings/sign-in/)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP
from catalog.models import AuditEvent
from identity.models import GroupMapping
from identity.views import MAPPING_ADDED, MAPPING_REMOVED
from tests.factories import TeamFactory

URL = "/settings/sign-in/"


def test_the_platform_team_adds_a_team_mapping(client, pat, support_tools):
    client.force_login(pat)

    response = client.post(URL, {"group": "team-support", "role": "team", "team": "support-tools"})

    assert response.status_code == 302
    mapping = GroupMapping.objects.get()
    assert (mapping.group, mapping.team, mapping.created_by) == ("team-support", support_tools, pat)
    event = AuditEvent.objects.get(action=MAPPING_ADDED)
    assert event.actor == pat and event.data["team"] == "support-tools"
    page = client.get(URL)
    assert b"team-support" in page.content and b"Support Tools" in page.content


def test_bad_input_is_answered_on_the_form(client, pat, support_tools):
    client.force_login(pat)
    GroupMapping.objects.create(group="admins", role=PLATFORM_GROUP)

    no_team = client.post(URL, {"group": "team-support", "role": "team"})
    extra_team = client.post(
        URL, {"group": "money", "role": FINANCE_GROUP, "team": "support-tools"}
    )
    duplicate = client.post(URL, {"group": "admins", "role": PLATFORM_GROUP})
    blank = client.post(URL, {"group": "", "role": "boss"})

    assert no_team.status_code == 400
    assert no_team.context["form"].errors["team"] == ["Choose the team this group's members join."]
    assert "leave it empty" in extra_team.context["form"].errors["team"][0]
    assert "already gives that role" in duplicate.context["form"].non_field_errors()[0]
    assert set(blank.context["form"].errors) == {"group", "role"}
    assert b'aria-invalid="true"' in blank.content
    assert GroupMapping.objects.count() == 1


def test_removing_a_mapping_is_recorded(client, pat):
    client.force_login(pat)
    mapping = GroupMapping.objects.create(group="money", role=FINANCE_GROUP)

    response = client.post(URL, {"remove": str(mapping.pk)})
    again = client.post(URL, {"remove": str(mapping.pk)}, follow=True)

    assert response.status_code == 302 and not GroupMapping.objects.exists()
    event = AuditEvent.objects.get(action=MAPPING_REMOVED)
    assert event.actor == pat and event.data == {"group": "money", "role": "finance", "team": ""}
    assert b"already removed" in again.content


def test_environment_mappings_are_shown_read_only(client, pat, settings, support_tools):
    settings.APPKEEPER_OIDC_GROUP_MAP = {"support": ["team:support-tools", "team:ghost"]}
    client.force_login(pat)

    page = client.get(URL)

    assert b"APPKEEPER_OIDC_GROUP_MAP" in page.content
    assert b"no such team: ignored" in page.content


def test_only_the_platform_team_sees_the_page(client, alice, fin):
    for user in (alice, fin):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"group": "x", "role": PLATFORM_GROUP}).status_code == 403
    assert not GroupMapping.objects.exists()


def test_the_page_is_in_the_platform_navigation(client, pat, alice):
    client.force_login(pat)
    assert URL.encode() in client.get("/").content
    client.force_login(alice)
    assert URL.encode() not in client.get("/").content


def test_the_page_costs_the_same_however_many_mappings(client, pat, settings):
    client.force_login(pat)

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    team = TeamFactory(slug="t-0")
    GroupMapping.objects.create(group="g-0", role="team", team=team, created_by=pat)
    settings.APPKEEPER_OIDC_GROUP_MAP = {"e-0": ["team:t-0"]}
    few = cost()
    for n in range(1, 15):
        team = TeamFactory(slug=f"t-{n}")
        GroupMapping.objects.create(group=f"g-{n}", role="team", team=team, created_by=pat)
    settings.APPKEEPER_OIDC_GROUP_MAP = {f"e-{n}": [f"team:t-{n}"] for n in range(15)}

    assert cost() == few


def test_the_page_stays_within_its_query_budget(client, pat, django_assert_max_num_queries):
    client.force_login(pat)
    GroupMapping.objects.create(group="admins", role=PLATFORM_GROUP)
    with django_assert_max_num_queries(12):
        client.get(URL)
