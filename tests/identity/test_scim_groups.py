"""SCIM Groups as teams: creating one, membership PATCHes in Okta's and Entra's shapes,
excludedAttributes=members, renaming, DELETE that never deletes a team, and directory
groups mapped to the platform team or finance."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.auth.models import Group as Role

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP
from catalog.models import AuditEvent, Team
from identity.models import GroupMapping
from tests.factories import MicroAppFactory, TeamFactory, UserFactory
from tests.identity.conftest import patch_op

pytestmark = pytest.mark.django_db

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def people():
    return [UserFactory(username=name) for name in ("ann", "ben", "cy")]


def members_of(team: Team) -> list[str]:
    return sorted(team.members.values_list("username", flat=True))


def test_create_a_group_makes_a_team(scim, people):
    ann, ben, _ = people
    answer = scim.post(
        "Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "Field Ops EMEA",
            "externalId": "grp-1",
            "members": [{"value": str(ann.pk)}, {"value": ben.pk, "display": "ben"}],
        },
    )
    assert answer.status_code == 201, answer.content
    resource = answer.json()
    team = Team.objects.get(pk=resource["id"])
    assert (team.name, team.slug, team.external_id, team.cost_center) == (
        "Field Ops EMEA",
        "field-ops-emea",
        "grp-1",
        "",
    )
    assert members_of(team) == ["ann", "ben"]
    assert answer["Location"] == resource["meta"]["location"]
    assert answer["ETag"] == resource["meta"]["version"]
    assert {m["value"] for m in resource["members"]} == {str(ann.pk), str(ben.pk)}
    event = AuditEvent.objects.get(action="scim_group_created")
    assert event.changes["members"] == {"added": sorted([ann.pk, ben.pk]), "removed": []}


def test_duplicate_names_conflict_and_slugs_never_clash(scim):
    TeamFactory(name="Support Tools", slug="support-tools")
    TeamFactory(name="Something else", slug="field-ops")
    clash = scim.post("Groups", {"displayName": "support tools"})
    assert clash.status_code == 409 and clash.json()["scimType"] == "uniqueness"
    made = scim.post("Groups", {"displayName": "Field Ops"})
    assert Team.objects.get(pk=made.json()["id"]).slug == "field-ops-2"


def test_entra_membership_patches(scim, people):
    ann, ben, cy = people
    team = TeamFactory(name="Payments")
    team.members.add(ann)
    url = f"Groups/{team.pk}"

    added = scim.patch(
        url,
        patch_op({"op": "Add", "path": "members", "value": [{"value": str(ben.pk)}]}),
    )
    assert added.status_code == 200, added.content
    assert members_of(team) == ["ann", "ben"]

    removed = scim.patch(
        url, patch_op({"op": "Remove", "path": "members", "value": [{"value": str(ann.pk)}]})
    )
    assert removed.status_code == 200
    assert members_of(team) == ["ben"]

    # Entra checks membership with a filter and leaves the members out of the answer.
    found = scim.client.get(
        "/scim/v2/Groups",
        {
            "filter": f'id eq "{team.pk}" and members[value eq "{ben.pk}"]',
            "excludedAttributes": "members",
        },
        headers=scim.headers,
    ).json()
    assert found["totalResults"] == 1 and "members" not in found["Resources"][0]
    absent = scim.client.get(
        "/scim/v2/Groups",
        {"filter": f'id eq "{team.pk}" and members[value eq "{cy.pk}"]'},
        headers=scim.headers,
    ).json()
    assert absent["totalResults"] == 0
    renamed = scim.patch(
        url, patch_op({"op": "Replace", "path": "displayName", "value": "Payments EU"})
    )
    assert renamed.json()["displayName"] == "Payments EU"
    team.refresh_from_db()
    assert team.name == "Payments EU" and team.slug != "payments-eu"  # links keep working


def test_okta_membership_patches(scim, people):
    ann, ben, cy = people
    team = TeamFactory(name="Okta group")
    team.members.add(ann, ben)
    url = f"Groups/{team.pk}"

    scim.patch(url, patch_op({"op": "remove", "path": f'members[value eq "{ann.pk}"]'}))
    assert members_of(team) == ["ben"]
    replaced = scim.patch(
        url,
        patch_op(
            {
                "op": "replace",
                "value": {"id": str(team.pk), "displayName": "Okta renamed"},
            },
            {"op": "replace", "path": "members", "value": [{"value": str(cy.pk)}]},
        ),
    )
    assert replaced.status_code == 200, replaced.content
    assert members_of(team) == ["cy"]
    assert replaced.json()["displayName"] == "Okta renamed"
    emptied = scim.patch(url, patch_op({"op": "remove", "path": "members"}))
    assert emptied.json()["members"] == []


def test_membership_changes_touch_the_version(scim, people):
    with time_machine.travel("2026-11-02 10:00:00Z", tick=False):
        team = TeamFactory(name="Versions")
        etag = scim.get(f"Groups/{team.pk}")["ETag"]
    with time_machine.travel("2026-11-02 10:01:00Z", tick=False):
        add = patch_op({"op": "add", "path": "members", "value": [{"value": str(people[0].pk)}]})
        answer = scim.patch(f"Groups/{team.pk}", add, headers={"If-Match": etag})
    assert answer.status_code == 200 and answer["ETag"] != etag
    assert scim.patch(f"Groups/{team.pk}", add, headers={"If-Match": etag}).status_code == 412
    assert (
        scim.get(f"Groups/{team.pk}", headers={"If-None-Match": answer["ETag"]}).status_code == 304
    )


def test_joining_or_leaving_a_group_is_a_new_version_of_the_user_too(scim, people):
    ann = people[0]
    with time_machine.travel("2026-11-02 10:00:00Z", tick=False):
        team = TeamFactory(name="Versions")
        before = scim.get(f"Users/{ann.pk}")["ETag"]
    add = patch_op({"op": "add", "path": "members", "value": [{"value": str(ann.pk)}]})
    with time_machine.travel("2026-11-02 10:01:00Z", tick=False):
        assert scim.patch(f"Groups/{team.pk}", add).status_code == 200
    joined = scim.get(f"Users/{ann.pk}")
    assert joined["ETag"] != before and [g["display"] for g in joined.json()["groups"]] == [
        "Versions"
    ]
    stale = patch_op({"op": "replace", "path": "displayName", "value": "Ann"})
    assert scim.patch(f"Users/{ann.pk}", stale, headers={"If-Match": before}).status_code == 412


def test_put_replaces_members(scim, people):
    ann, ben, _ = people
    team = TeamFactory(name="Put team", external_id="old")
    team.members.add(ann)
    answer = scim.put(
        f"Groups/{team.pk}",
        {"schemas": [GROUP_SCHEMA], "displayName": "Put team", "members": [{"value": str(ben.pk)}]},
    )
    assert answer.status_code == 200
    assert members_of(team) == ["ben"]
    team.refresh_from_db()
    assert team.external_id == ""


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "add", "path": "members", "value": [{"value": "999999"}]}, "invalidValue"),
        ({"op": "add", "path": "members", "value": [{"value": "abc"}]}, "invalidValue"),
        ({"op": "add", "path": "members", "value": "12"}, "invalidValue"),
        ({"op": "remove", "path": "displayName"}, "invalidValue"),
        ({"op": "replace", "path": "owner", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": "id", "value": "7"}, "mutability"),
        ({"op": "remove", "path": 'members[display eq "x"]'}, "invalidFilter"),
    ],
)
def test_bad_group_patches(scim, people, operation, scim_type):
    team = TeamFactory(name="Strict")
    team.members.add(people[0])
    answer = scim.patch(f"Groups/{team.pk}", patch_op(operation))
    assert answer.status_code == 400, answer.content
    assert answer.json()["scimType"] == scim_type
    assert members_of(team) == ["ann"]


def test_delete_empties_and_unprovisions_the_team_but_keeps_it(scim, people):
    team = TeamFactory(name="Leaving", external_id="grp-9")
    team.members.add(*people)
    app = MicroAppFactory(team=team)

    assert scim.delete(f"Groups/{team.pk}").status_code == 204

    team.refresh_from_db()
    assert team.members.count() == 0 and team.external_id == ""
    app.refresh_from_db()
    assert app.team_id == team.pk
    assert scim.get(f"Groups/{team.pk}").json()["members"] == []
    assert scim.get('Groups?filter=externalId eq "grp-9"').json()["totalResults"] == 0


def test_mapped_groups_grant_and_revoke_roles(scim, people):
    ann, ben, _ = people
    GroupMapping.objects.create(group="Appkeeper Admins", role=GroupMapping.Role.PLATFORM)
    GroupMapping.objects.create(group="appkeeper admins", role=GroupMapping.Role.FINANCE)
    made = scim.post(
        "Groups", {"displayName": "Appkeeper Admins", "members": [{"value": str(ann.pk)}]}
    ).json()
    platform = Role.objects.get(name=PLATFORM_GROUP)
    assert list(platform.user_set.all()) == [ann]
    assert list(Role.objects.get(name=FINANCE_GROUP).user_set.all()) == [ann]

    scim.patch(
        f"Groups/{made['id']}",
        patch_op(
            {"op": "add", "path": "members", "value": [{"value": str(ben.pk)}]},
            {"op": "remove", "path": f'members[value eq "{ann.pk}"]'},
        ),
    )
    assert list(platform.user_set.all()) == [ben]
    scim.delete(f"Groups/{made['id']}")
    assert not platform.user_set.exists()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('displayName eq "alpha"', ["Alpha"]),
        ('externalId eq "ext-b"', ["Beta"]),
        ('displayName sw "A" or displayName eq "Beta"', ["Alpha", "Beta"]),
    ],
)
def test_group_filters(scim, expression, expected):
    TeamFactory(name="Alpha")
    TeamFactory(name="Beta", external_id="ext-b")
    answer = scim.client.get("/scim/v2/Groups", {"filter": expression}, headers=scim.headers)
    assert sorted(r["displayName"] for r in answer.json()["Resources"]) == expected


def test_listing_groups_costs_the_same_queries_for_any_number(scim, django_assert_max_num_queries):
    members = [UserFactory() for _ in range(5)]
    for _ in range(25):
        TeamFactory().members.add(*members)
    scim.get("Groups")
    with django_assert_max_num_queries(4):
        answer = scim.get("Groups?count=200")
    assert len(answer.json()["Resources"]) == 25
    assert all(len(r["members"]) == 5 for r in answer.json()["Resources"])
    with django_assert_max_num_queries(3):
        lean = scim.get("Groups?excludedAttributes=members")
    assert all("members" not in r for r in lean.json()["Resources"])


def test_reading_and_patching_a_big_group_costs_a_fixed_number_of_queries(
    scim, django_assert_max_num_queries
):
    team = TeamFactory(name="Big")
    team.members.add(*[UserFactory() for _ in range(40)])
    newcomers = [UserFactory() for _ in range(40)]
    scim.get(f"Groups/{team.pk}")
    with django_assert_max_num_queries(3):
        assert len(scim.get(f"Groups/{team.pk}").json()["members"]) == 40
    add = patch_op(
        {"op": "add", "path": "members", "value": [{"value": str(u.pk)} for u in newcomers]}
    )
    # Two of them move the newcomers' own versions (their groups changed), in bulk.
    with django_assert_max_num_queries(18):
        assert len(scim.patch(f"Groups/{team.pk}", add).json()["members"]) == 80
