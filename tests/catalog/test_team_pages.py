"""The team pages: the list, one team, and the platform team's lead form."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import AuditEvent, BackstageEntity, Team
from tests.factories import MicroAppFactory, TeamFactory, UserFactory

# Session, user, their groups and team ids (the layout), then the page: the teams (list);
# the team, its members, its apps, the lead form's choices (detail, platform team).
LIST_BUDGET = 5
DETAIL_BUDGET = 7


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _fill_teams(count: int) -> None:
    parent = None
    for n in range(count):
        team = TeamFactory(slug=f"crew-{n}", name=f"Crew {n}")
        lead = UserFactory(username=f"lead-{n}")
        team.members.add(lead, UserFactory(username=f"member-{n}"))
        team.lead = lead
        team.parent = parent  # the list shows each team's parent
        team.save()
        parent = team
        MicroAppFactory(team=team, owner=lead, state=AppState.ACTIVE)
        MicroAppFactory(team=team, owner=lead, state=AppState.ACTIVE, orphaned_at=timezone.now())


def test_list_shows_every_team_with_lead_and_counts(client, alice, bob, support_tools, field_ops):
    support_tools.lead = bob
    support_tools.external_id = "grp-42"
    support_tools.save()
    MicroAppFactory(team=support_tools, owner=alice, state=AppState.ACTIVE, slug="live-one")
    MicroAppFactory(
        team=support_tools,
        owner=alice,
        state=AppState.ACTIVE,
        slug="lost-one",
        orphaned_at=timezone.now(),
    )
    MicroAppFactory(team=support_tools, owner=alice, state=AppState.RETIRED, slug="gone-one")
    client.force_login(alice)

    response = client.get(reverse("team-list"))

    assert response.status_code == 200
    teams = {team.slug: team for team in response.context["teams"]}
    assert teams["support-tools"].app_count == 2  # the retired app is not live
    assert teams["support-tools"].orphaned_count == 1
    assert teams["support-tools"].member_count == 2
    assert teams["field-ops"].app_count == 0
    body = response.content.decode()
    assert reverse("team-detail", args=["support-tools"]) in body
    assert "Provisioned by the directory" in body
    assert "bob" in body


def test_list_needs_sign_in(client, support_tools):
    response = client.get(reverse("team-list"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("count", [2, 20])
def test_list_costs_the_same_for_2_or_20_teams(count, client, alice, django_assert_max_num_queries):
    _fill_teams(count)
    client.force_login(alice)
    with django_assert_max_num_queries(LIST_BUDGET):
        response = client.get(reverse("team-list"))
    assert response.status_code == 200
    assert len(response.context["teams"]) == count + 1


@pytest.mark.parametrize("count", [2, 30])
def test_detail_costs_the_same_for_2_or_30_members_and_apps(
    count, client, pat, support_tools, django_assert_max_num_queries
):
    owners = [UserFactory(username=f"person-{n}") for n in range(count)]
    support_tools.members.add(*owners)
    support_tools.lead = owners[0]
    support_tools.save()
    for n, owner in enumerate(owners):
        app = MicroAppFactory(team=support_tools, owner=owner, state=AppState.ACTIVE)
        app.co_owners.add(owners[(n + 1) % count])
    owners[1].is_active = False
    owners[1].save()
    for n in range(count):
        TeamFactory(slug=f"sub-{n}", name=f"Sub {n}", parent=support_tools)
    support_tools.parent = TeamFactory(slug="all-support", name="All Support")
    support_tools.save()
    BackstageEntity.objects.create(
        ref="group:default/support-tools",
        kind="group",
        name="support-tools",
        team=support_tools,
        document={"spec": {"profile": {"picture": "https://img.example.com/s.png"}}},
    )
    client.force_login(pat)  # the platform team's view has the lead form too
    with django_assert_max_num_queries(DETAIL_BUDGET):
        response = client.get(reverse("team-detail", args=["support-tools"]))
    assert response.status_code == 200
    assert len(response.context["apps"]) == count
    assert len(response.context["members"]) == count
    assert len(response.context["children"]) == count
    assert response.context["backstage"]["ref"] == "group:default/support-tools"


def test_detail_shows_facts_members_and_apps(client, alice, bob, support_tools):
    support_tools.lead = bob
    support_tools.save()
    gone = UserFactory(username="gone", is_active=False)
    support_tools.members.add(gone)
    app = MicroAppFactory(
        team=support_tools,
        owner=gone,
        state=AppState.ACTIVE,
        slug="stray",
        orphaned_at=timezone.now(),
    )
    client.force_login(alice)

    response = client.get(reverse("team-detail", args=["support-tools"]))

    body = response.content.decode()
    assert response.status_code == 200
    assert app.get_absolute_url() in body
    assert "Orphaned" in body
    assert "Deactivated" in body
    assert "#support-tools" in body
    assert response.context["form"] is None  # alice is not in the platform team
    assert "Set the team lead" not in body
    assert "Move this team" not in body


def test_detail_of_an_unknown_team_is_404(client, alice):
    client.force_login(alice)
    assert client.get(reverse("team-detail", args=["nope"])).status_code == 404


def test_drafts_are_hidden_from_outsiders(client, alice, carol, pat, support_tools):
    MicroAppFactory(team=support_tools, owner=alice, state=AppState.DRAFT, slug="secret-draft")
    url = reverse("team-detail", args=["support-tools"])

    client.force_login(carol)
    assert "secret-draft" not in client.get(url).content.decode()
    listed = {t.slug: t for t in client.get(reverse("team-list")).context["teams"]}
    assert listed["support-tools"].app_count == 0

    for insider in (alice, pat):
        client.force_login(insider)
        assert "secret-draft" in client.get(url).content.decode()


def test_platform_sees_the_lead_form_and_links(client, pat, support_tools):
    client.force_login(pat)
    body = client.get(reverse("team-detail", args=["support-tools"])).content.decode()
    assert f"{reverse('app-transfer')}?team=support-tools" in body
    assert f"{reverse('app-list')}?team=support-tools&amp;orphaned=true" in body
    assert 'name="lead"' in body


def test_platform_sets_the_lead_with_an_audit_event(client, pat, alice, bob, support_tools):
    support_tools.lead = alice
    support_tools.save()
    client.force_login(pat)

    response = client.post(reverse("team-lead", args=["support-tools"]), {"lead": "bob"})

    assert response.status_code == 302
    support_tools.refresh_from_db()
    assert support_tools.lead == bob
    event = AuditEvent.objects.get(action="team_lead_changed")
    assert event.app is None
    assert event.actor == pat
    assert event.data == {"team": "support-tools", "before": "alice", "after": "bob"}


def test_platform_clears_the_lead(client, pat, alice, support_tools):
    support_tools.lead = alice
    support_tools.save()
    client.force_login(pat)

    response = client.post(reverse("team-lead", args=["support-tools"]), {"lead": ""})

    assert response.status_code == 302
    assert Team.objects.get(slug="support-tools").lead is None
    event = AuditEvent.objects.get(action="team_lead_changed")
    assert event.data == {"team": "support-tools", "before": "alice", "after": None}


def test_naming_the_same_lead_again_writes_nothing(client, pat, alice, support_tools):
    support_tools.lead = alice
    support_tools.save()
    client.force_login(pat)
    client.post(reverse("team-lead", args=["support-tools"]), {"lead": "alice"})
    assert not AuditEvent.objects.filter(action="team_lead_changed").exists()


@pytest.mark.parametrize(
    ("choice", "message"),
    [("gone", "gone is deactivated."), ("ghost", "unknown or deactivated")],
)
def test_a_deactivated_or_unknown_lead_is_refused_inline(
    choice, message, client, pat, alice, support_tools
):
    support_tools.lead = alice
    support_tools.save()
    UserFactory(username="gone", is_active=False)
    client.force_login(pat)

    response = client.post(reverse("team-lead", args=["support-tools"]), {"lead": choice})

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'id="error-summary"' in body
    assert 'aria-invalid="true"' in body
    assert Team.objects.get(slug="support-tools").lead == alice
    assert not AuditEvent.objects.filter(action="team_lead_changed").exists()


def test_only_the_platform_team_sets_a_lead(client, alice, bob, support_tools):
    client.force_login(alice)
    response = client.post(reverse("team-lead", args=["support-tools"]), {"lead": "bob"})
    assert response.status_code == 403
    assert Team.objects.get(slug="support-tools").lead is None
    assert not AuditEvent.objects.exists()


def test_the_app_page_and_catalog_link_to_the_team(client, alice, support_tools):
    app = MicroAppFactory(team=support_tools, owner=alice, state=AppState.ACTIVE)
    client.force_login(alice)
    team_url = reverse("team-detail", args=["support-tools"])
    assert team_url in client.get(app.get_absolute_url()).content.decode()
    assert team_url in client.get(reverse("app-list")).content.decode()


def test_teams_is_in_the_nav(client, alice, support_tools):
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("team-list")}"' in body


def test_the_api_lead_write_is_audited_by_the_same_service(api_as, pat, alice, support_tools):
    response = api_as(pat).patch("/api/v1/teams/support-tools/", {"lead": "alice"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["lead"] == "alice"
    event = AuditEvent.objects.get(action="team_lead_changed")
    assert event.data == {"team": "support-tools", "before": None, "after": "alice"}
    # Other fields alone leave the lead, and the audit trail, as they were.
    api_as(pat).patch("/api/v1/teams/support-tools/", {"cost_center": "CC-9"}, format="json")
    assert Team.objects.get(slug="support-tools").lead == alice
    assert AuditEvent.objects.filter(action="team_lead_changed").count() == 1


def test_the_lead_form_offers_the_teams_active_members_and_the_current_lead(
    client, pat, alice, carol, support_tools
):
    support_tools.lead = carol  # named from outside the team, over the API
    support_tools.save()
    support_tools.members.add(UserFactory(username="gone", is_active=False))
    client.force_login(pat)

    form = client.get(reverse("team-detail", args=["support-tools"])).context["form"]

    choices = [str(value) for value, _ in form.fields["lead"].choices if value]
    # Members first; the outside lead stays selectable; nobody else of the directory.
    assert choices == ["alice", "carol"]
    assert form["lead"].value() == "carol"
