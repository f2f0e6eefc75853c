"""Backstage Group and User entities become teams and people: created, adopted, synced."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
import yaml
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.backstage.importer import EntityResult
from catalog.backstage.org import PLATFORM_ONLY, import_group, import_user
from catalog.backstage.store import store_entity
from catalog.models import BackstageEntity, Team
from identity.models import Person, Source
from tests.factories import TeamFactory, UserFactory
from tests.identity.oidc_support import (
    oidc_fixture,  # noqa: F401  (provides the oidc fixture)
    sign_in,
)

User = get_user_model()
DATA = Path(__file__).resolve().parents[1] / "data" / "backstage"
ORG = DATA / "create-app-examples" / "org.yaml"
TEAM_A = DATA / "backstage-examples" / "team-a-group.yaml"


def docs_of(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def run(docs: list[dict], user, *, scope=None, location: str = "") -> list[EntityResult]:
    """What the engine does: store every entity, then Groups first, then Users."""
    results = []
    for kind, importer in (("Group", import_group), ("User", import_user)):
        for doc in docs:
            if doc.get("kind") != kind:
                continue
            entity, _ = store_entity(doc, location=location)
            result = EntityResult(kind=kind, name=doc["metadata"]["name"])
            if scope is not None:
                importer(doc, entity, result, user=user, scope=scope)
            else:
                importer(doc, entity, result, user=user)
            results.append(result)
    return results


def group(name: str, **spec) -> dict:
    metadata = {"name": name}
    for key in ("namespace", "title", "description"):
        if key in spec:
            metadata[key] = spec.pop(key)
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": metadata,
            "spec": {"type": "team", "children": [], **spec}}  # fmt: skip


def person(name: str, **spec) -> dict:
    metadata = {"name": name}
    if "namespace" in spec:
        metadata["namespace"] = spec.pop("namespace")
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": metadata,
            "spec": spec}  # fmt: skip


def team_of(ref: str) -> Team:
    return BackstageEntity.objects.get(ref=ref).team


def user_of(ref: str):
    return BackstageEntity.objects.get(ref=ref).user


def usernames(team: Team) -> set[str]:
    return set(team.members.values_list("username", flat=True))


# --- the examples -------------------------------------------------------------------------


def test_create_app_org_makes_the_guests_team_and_its_guest(pat):
    results = run(docs_of(ORG), pat)

    assert [(r.kind, r.action) for r in results] == [("Group", "created"), ("User", "created")]
    guests = team_of("group:default/guests")
    assert (guests.slug, guests.name) == ("guests", "guests")
    guest = user_of("user:default/guest")
    assert guest.username == "guest" and not guest.has_usable_password()
    assert guest.person.source == Source.BACKSTAGE
    assert usernames(guests) == {"guest"}


def test_team_a_file_makes_the_team_its_people_and_waits_for_its_parent(pat):
    results = run(docs_of(TEAM_A), pat, location="https://example.com/team-a-group.yaml")

    assert {r.action for r in results} == {"created"}
    team = team_of("group:default/team-a")
    assert (team.name, team.description) == ("team-a", "Team A")
    assert team.contact_email == "team-a@example.com"
    assert team.parent is None
    assert any("group:default/backstage is not imported yet" in w for w in results[0].warnings)
    janelle = user_of("user:default/janelle.dawe")
    assert (janelle.first_name, janelle.last_name) == ("Janelle", "Dawe")
    assert janelle.email == "janelle-dawe@example.com"
    assert user_of("user:default/breanna.davison").first_name == ""
    # The guest of namespace development is another entity, so another account; its
    # address is the default guest's, so it is not copied and sign-in stays unambiguous.
    other = user_of("user:development/guest")
    assert other.username == "development-guest" and other.email == ""
    assert any("guest@example.com is the address of another account" in w
               for w in results[-1].warnings)  # fmt: skip
    assert usernames(team) == {
        "breanna.davison", "janelle.dawe", "nigel.manning", "guest", "development-guest"
    }  # fmt: skip

    run([group("backstage", title="Backstage")], pat)

    team.refresh_from_db()
    assert team.parent == team_of("group:default/backstage")
    assert team.parent.name == "Backstage"


def test_both_files_one_after_the_other_move_the_guest_from_guests_to_team_a(pat):
    run(docs_of(ORG), pat)
    run(docs_of(TEAM_A), pat)

    assert usernames(team_of("group:default/guests")) == set()
    assert "guest" in usernames(team_of("group:default/team-a"))
    assert User.objects.filter(username__startswith="guest").count() == 1


def test_importing_the_same_files_again_changes_nothing(pat):
    run(docs_of(TEAM_A), pat)
    team = team_of("group:default/team-a")
    janelle = user_of("user:default/janelle.dawe")
    stamp = team.updated_at

    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        results = run(docs_of(TEAM_A), pat)

    assert {r.action for r in results} == {"unchanged"}
    team.refresh_from_db()
    assert team.updated_at == stamp
    assert User.objects.get(pk=janelle.pk).last_login == janelle.last_login
    assert Person.objects.get(user=janelle).updated_at == janelle.person.updated_at


# --- sync semantics -----------------------------------------------------------------------


def test_the_file_decides_its_fields_until_appkeeper_changes_them(pat):
    run([group("ops", title="Ops", description="Runs things", profile={"email": "a@x.io"})], pat)
    team = team_of("group:default/ops")
    team.contact_email = "pager@x.io"  # set in Appkeeper: stays
    team.save()

    run([group("ops", title="Operations", description="Runs it all",
               profile={"email": "b@x.io"})], pat)  # fmt: skip

    team.refresh_from_db()
    assert (team.name, team.description) == ("Operations", "Runs it all")
    assert team.contact_email == "pager@x.io"


def test_members_backstage_made_leave_when_unlisted_and_appkeeper_ones_stay(pat):
    run([person("ann"), person("ben")], pat)
    run([group("ops", members=["ann", "ben"])], pat)
    team = team_of("group:default/ops")
    carl = UserFactory(username="carl")
    team.members.add(carl)  # added in Appkeeper

    result = run([group("ops", members=["ann"])], pat)[0]

    assert result.action == "updated"
    assert usernames(team) == {"ann", "carl"}


def test_a_member_already_in_the_team_before_backstage_stays_when_unlisted(pat, support_tools):
    dora = UserFactory(username="dora")
    support_tools.members.add(dora)
    run([person("dora"), group("support-tools", members=["dora"])], pat)

    run([group("support-tools", members=[])], pat)

    assert "dora" in usernames(support_tools)


def test_a_user_arriving_after_its_group_joins_and_leaves_by_member_of(pat):
    run([group("ops"), group("dev")], pat)
    run([person("ann", memberOf=["ops", "group:default/dev"])], pat)
    assert usernames(team_of("group:default/ops")) == {"ann"}

    results = run([person("ann", memberOf=["dev"])], pat)

    assert results[0].action == "updated"
    assert usernames(team_of("group:default/ops")) == set()
    assert usernames(team_of("group:default/dev")) == {"ann"}
    # The group's own import afterwards agrees: nobody lists ann in ops.
    run([group("ops"), group("dev")], pat)
    assert usernames(team_of("group:default/dev")) == {"ann"}


def test_a_listed_member_arriving_later_joins(pat):
    run([group("ops", members=["user:default/ann"])], pat)
    run([person("ann")], pat)
    assert usernames(team_of("group:default/ops")) == {"ann"}


def test_a_child_arriving_before_its_parent_is_linked_when_the_parent_comes(pat):
    run([group("child-a", parent="root"), group("child-b", parent="group:default/root")], pat)
    run([group("root")], pat)
    root = team_of("group:default/root")
    assert set(root.children.values_list("slug", flat=True)) == {"child-a", "child-b"}

    run([group("child-a")], pat)  # the file dropped its parent

    assert team_of("group:default/child-a").parent is None


def test_a_parent_set_in_appkeeper_stays(pat):
    run([group("root"), group("ops")], pat)
    team = team_of("group:default/ops")
    team.parent = TeamFactory(slug="elsewhere", name="Elsewhere")
    team.save()
    run([group("ops", parent="root")], pat)
    team.refresh_from_db()
    assert team.parent.slug == "elsewhere"


# --- identity: adoption, namespaces -------------------------------------------------------


def test_a_group_adopts_the_team_with_its_slug_and_keeps_its_name(pat, support_tools):
    result = run([group("support-tools", description="Helps")], pat)[0]
    assert result.action == "updated"
    support_tools.refresh_from_db()
    assert (support_tools.name, support_tools.description) == ("Support Tools", "Helps")
    assert team_of("group:default/support-tools") == support_tools
    assert not Team.objects.filter(slug__startswith="support-tools-").exists()


def test_a_group_in_another_namespace_never_merges(pat, support_tools):
    run([group("support-tools", namespace="finance", title="Support Tools")], pat)
    team = team_of("group:finance/support-tools")
    assert team != support_tools
    assert (team.slug, team.name) == ("finance-support-tools", "Support Tools (finance)")


def test_a_user_adopts_an_account_by_email_keeping_what_appkeeper_owns(pat):
    scim = UserFactory(username="a.smith", email="Ann@Example.com", is_active=False)
    scim.is_staff = True
    scim.save()
    Person.objects.create(user=scim, source=Source.SCIM)
    password = scim.password

    result = run([person("ann", profile={"email": "ann@example.com",
                                         "displayName": "Ann Smith"})], pat)[0]  # fmt: skip

    assert result.action == "updated"
    assert any("deactivated and stays so" in w for w in result.warnings)
    scim.refresh_from_db()
    assert user_of("user:default/ann") == scim
    assert (scim.first_name, scim.last_name) == ("Ann", "Smith")
    assert (scim.is_active, scim.is_staff, scim.password) == (False, True, password)
    assert scim.person.source == Source.SCIM
    assert scim.username == "a.smith"


def test_a_user_adopts_an_account_by_username(pat, alice):
    run([person("alice")], pat)
    assert user_of("user:default/alice") == alice


def test_single_sign_on_adopts_an_imported_person_rather_than_duplicating(client, oidc, pat):
    run(docs_of(TEAM_A), pat)
    janelle = user_of("user:default/janelle.dawe")
    oidc.claims = {"sub": "00u-janelle", "email": "Janelle-Dawe@example.com",
                   "email_verified": True, "preferred_username": "jdawe"}  # fmt: skip

    sign_in(client, oidc)

    assert client.session.get("_auth_user_id") == str(janelle.pk)
    assert User.objects.filter(email__iexact="janelle-dawe@example.com").count() == 1
    janelle.person.refresh_from_db()
    assert janelle.person.oidc_subject == "00u-janelle"


# --- who may ------------------------------------------------------------------------------


def test_only_the_platform_team_creates_or_changes_teams_and_people(alice, pat):
    results = run([group("ops"), person("zed")], alice)
    assert [r.action for r in results] == ["error", "error"]
    assert results[0].errors == [{"field": "kind", "message": PLATFORM_ONLY}]
    assert not Team.objects.filter(slug="ops").exists()
    assert not User.objects.filter(username="zed").exists()

    run([group("ops"), person("zed", memberOf=["ops"])], pat)
    assert [r.action for r in run([group("ops"), person("zed", memberOf=["ops"])], alice)] == [
        "unchanged",
        "unchanged",
    ]
    assert run([group("ops", title="Ops!")], alice)[0].action == "error"


def test_an_import_for_one_team_refuses_groups_and_users(pat, support_tools):
    results = run([group("ops"), person("zed")], pat, scope=support_tools)
    assert [r.action for r in results] == ["error", "error"]
    assert not Team.objects.filter(slug="ops").exists()


# --- cost -----------------------------------------------------------------------------------

# The session's groups (is_platform), the relations, the team and its parent, the members
# wanted and present, the waiting children, the writes of the team, its members and the
# entity: none of it per member or per team.
GROUP_BUDGET = 14
# The relations, the account to adopt, the address check, the groups wanting and holding
# the person, the account, its person, its memberships and the groups' records.
USER_BUDGET = 12


@pytest.mark.parametrize("count", [2, 20])
def test_a_group_import_costs_the_same_for_2_or_20_members(
    count, pat, django_assert_max_num_queries
):
    for n in range(count):
        TeamFactory(slug=f"crew-{n}", name=f"Crew {n}")
    names = [f"p{n}" for n in range(count)]
    run([person(name) for name in names], pat)
    doc = group("ops", members=names, parent="root")
    entity, _ = store_entity(doc)
    with django_assert_max_num_queries(GROUP_BUDGET):
        import_group(doc, entity, EntityResult("Group", "ops"), user=pat)
    assert len(usernames(team_of("group:default/ops"))) == count


@pytest.mark.parametrize("count", [2, 20])
def test_a_user_import_costs_the_same_for_2_or_20_groups(count, pat, django_assert_max_num_queries):
    names = [f"g{n}" for n in range(count)]
    run([group(name) for name in names], pat)
    doc = person("ann", memberOf=names, profile={"email": "ann@example.com"})
    entity, _ = store_entity(doc)
    with django_assert_max_num_queries(USER_BUDGET):
        import_user(doc, entity, EntityResult("User", "ann"), user=pat)
    assert user_of("user:default/ann").appkeeper_teams.count() == count


# --- the team pages -------------------------------------------------------------------------


def test_the_team_page_shows_where_a_backstage_team_came_from(client, pat, alice):
    run(docs_of(TEAM_A), pat, location="https://git.example.com/org/team-a-group.yaml")
    run([group("backstage", title="Backstage"), group("child", parent="team-a")], pat)
    client.force_login(alice)

    body = client.get("/teams/team-a/").content.decode()

    assert "Team A" in body  # the description
    assert "<code>group:default/team-a</code>" in body
    assert 'href="https://git.example.com/org/team-a-group.yaml"' in body
    assert '<a href="/teams/backstage/">Backstage</a>' in body
    assert '<a href="/teams/child/">child</a>' in body
    assert '<img class="avatar" src="https://api.dicebear.com/7.x/identicon/svg?seed=Fluffy' in body
    assert 'alt=""' in body


def test_the_team_page_shows_no_picture_over_http_and_no_link_for_an_odd_location(
    client, pat, alice
):
    run([group("ops", profile={"picture": "http://img.example.com/ops.png"})], pat,
        location="javascript:alert(1)")  # fmt: skip
    client.force_login(alice)

    body = client.get("/teams/ops/").content.decode()

    assert "img.example.com" not in body
    assert 'href="javascript' not in body
    assert "<code>group:default/ops</code>" in body


def test_a_team_made_in_appkeeper_shows_no_backstage_facts(client, alice, support_tools):
    client.force_login(alice)
    body = client.get("/teams/support-tools/").content.decode()
    assert "Read from" not in body and "group:default" not in body


def test_the_team_list_shows_each_parent(client, pat, alice):
    run([group("root", title="Root"), group("ops", parent="root")], pat)
    client.force_login(alice)
    body = client.get("/teams/").content.decode()
    assert '<a href="/teams/root/">Root</a>' in body


def test_a_name_the_models_refuse_is_an_error_on_the_entitys_field(pat):
    results = run([group("ops", title="Ops\x07"), person("bad name")], pat)

    assert [r.action for r in results] == ["error", "error"]
    assert results[0].errors[0]["field"] == "spec.profile.displayName"
    assert results[1].errors[0]["field"] == "metadata.name"
    assert not Team.objects.filter(slug="ops").exists()
    assert not User.objects.filter(username="bad name").exists()


def test_members_named_by_username_join_when_no_user_entity_claims_them(pat):
    carol = UserFactory(username="carol")  # signed in through SSO, never in Backstage
    left = UserFactory(username="gone", is_active=False)

    run([group("mobile", members=["carol", "gone", "user:other/carol"])], pat)

    members = set(team_of("group:default/mobile").members.all())
    assert carol in members and left not in members
