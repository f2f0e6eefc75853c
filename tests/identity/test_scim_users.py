"""SCIM Users, walked the way Okta's SCIM 2.0 spec tests and Microsoft Entra's validator
walk them: create, find by userName, read, deactivate (the apps are handed over),
reactivate, the 404 and 409 answers, and Entra's dialect (capitalised ops, string
booleans, externalId filters)."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.auth import get_user_model

from catalog.choices import AppState
from catalog.models import AuditEvent
from catalog.ownership import HANDED_OVER
from identity.models import Person
from tests.factories import MicroAppFactory, TeamFactory, UserFactory
from tests.identity.conftest import patch_op

pytestmark = pytest.mark.django_db

User = get_user_model()
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def okta_user(user_name="jo.doe@example.com", **extra) -> dict:
    return {
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": "Jo", "familyName": "Doe"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": "Jo Doe",
        "active": True,
        "password": "ignored-1234",
        **extra,
    }


def test_okta_sequence_create_find_read_deactivate_reactivate(scim):
    created = scim.post("Users", okta_user(externalId="00u1okta"))
    assert created.status_code == 201
    assert created["Content-Type"].startswith("application/scim+json")
    body = created.json()
    assert (
        created["Location"]
        == body["meta"]["location"]
        == f"http://testserver/scim/v2/Users/{body['id']}"
    )
    assert created["ETag"] == body["meta"]["version"] and body["meta"]["version"].startswith('W/"')
    assert body["userName"] == "jo.doe@example.com" and body["active"] is True
    assert body["externalId"] == "00u1okta"
    user = User.objects.get(pk=body["id"])
    assert not user.has_usable_password()
    assert (user.first_name, user.last_name, user.email) == ("Jo", "Doe", "jo.doe@example.com")
    assert Person.objects.get(user=user).source == "scim"

    found = scim.get('Users?filter=userName eq "JO.DOE@example.com"&startIndex=1&count=100')
    assert found.status_code == 200
    listed = found.json()
    assert listed["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert (listed["totalResults"], listed["itemsPerPage"], listed["startIndex"]) == (1, 1, 1)
    assert listed["Resources"][0]["id"] == body["id"]

    assert scim.get('Users?filter=userName eq "nobody@example.com"').json()["totalResults"] == 0
    one = scim.get(f"Users/{body['id']}")
    assert one.status_code == 200 and one.json()["userName"] == "jo.doe@example.com"

    off = scim.patch(f"Users/{body['id']}", patch_op({"op": "replace", "value": {"active": False}}))
    assert off.status_code == 200 and off.json()["active"] is False
    user.refresh_from_db()
    assert not user.is_active
    assert Person.objects.get(user=user).deactivated_via == "scim"

    on = scim.patch(f"Users/{body['id']}", patch_op({"op": "replace", "value": {"active": True}}))
    assert on.json()["active"] is True
    user.refresh_from_db()
    assert user.is_active and Person.objects.get(user=user).deactivated_at is None

    missing = scim.get("Users/999999")
    assert missing.status_code == 404
    assert missing.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert missing.json()["status"] == "404"

    again = scim.post("Users", okta_user("Jo.Doe@Example.com"))
    assert again.status_code == 409
    assert again.json()["scimType"] == "uniqueness"


def test_deactivation_hands_the_apps_over_and_is_audited(scim):
    lead = UserFactory(username="lead")
    leaver = UserFactory(username="leaver")
    app = MicroAppFactory(owner=leaver, team=TeamFactory(lead=lead), state=AppState.ACTIVE)

    answer = scim.patch(
        f"Users/{leaver.pk}", patch_op({"op": "Replace", "path": "active", "value": "False"})
    )

    assert answer.status_code == 200 and answer.json()["active"] is False
    app.refresh_from_db()
    assert app.owner == lead
    handed = AuditEvent.objects.get(app=app, action=HANDED_OVER)
    assert handed.data["via"] == "scim" and handed.actor is None
    update = AuditEvent.objects.get(action="scim_user_updated")
    assert update.changes == {"active": [True, False]}
    assert update.data["token"] == "Okta" and update.data["user"] == "leaver"


def test_delete_deactivates_and_never_deletes(scim):
    leaver = UserFactory(username="leaver")
    app = MicroAppFactory(owner=leaver, state=AppState.ACTIVE)

    assert scim.delete(f"Users/{leaver.pk}").status_code == 204

    leaver.refresh_from_db()
    assert not leaver.is_active
    assert scim.get(f"Users/{leaver.pk}").json()["active"] is False
    app.refresh_from_db()
    assert app.orphaned_at is not None  # no co-owner, no lead: flagged for the platform team


def test_entra_dialect(scim):
    created = scim.post(
        "Users",
        {
            "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "8a1c-entra",
            "userName": "sam@contoso.example",
            "active": "True",
            "displayName": "Sam Rivera",
            "emails": [{"type": "work", "value": "sam@contoso.example", "primary": "true"}],
            "title": "Engineer",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"},
        },
    )
    assert created.status_code == 201, created.content
    user_id = created.json()["id"]
    assert created.json()["name"]["givenName"] == "Sam"
    assert created.json()["displayName"] == "Sam Rivera"

    by_external = scim.get('Users?filter=externalId eq "8a1c-entra"').json()
    assert [r["id"] for r in by_external["Resources"]] == [user_id]
    assert scim.get('Users?filter=externalId eq "8A1C-ENTRA"').json()["totalResults"] == 0

    changed = scim.patch(
        f"Users/{user_id}",
        patch_op(
            {"op": "Replace", "path": "name.givenName", "value": "Samuel"},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "s@contoso.example"},
            {"op": "Add", "path": "externalId", "value": "8a1c-new"},
            {"op": "Replace", "path": "userName", "value": "samuel@contoso.example"},
            {"op": "Add", "path": 'phoneNumbers[type eq "work"].value', "value": "+1 555"},
            {
                "op": "Replace",
                "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
                "value": "Rivers",
            },
        ),
    )
    assert changed.status_code == 200, changed.content
    resource = changed.json()
    assert resource["name"]["givenName"] == "Samuel" and resource["name"]["familyName"] == "Rivers"
    assert resource["emails"][0]["value"] == "s@contoso.example"
    assert resource["externalId"] == "8a1c-new"
    assert resource["userName"] == "samuel@contoso.example"

    removed = scim.patch(f"Users/{user_id}", patch_op({"op": "Remove", "path": "externalId"}))
    assert "externalId" not in removed.json()


def test_put_replaces_and_keeps_active_when_absent(scim):
    user = UserFactory(username="kim", first_name="Kim", last_name="Old")
    body = {"schemas": [USER_SCHEMA], "userName": "kim", "name": {"givenName": "Kim"}}

    answer = scim.put(f"Users/{user.pk}", body)

    assert answer.status_code == 200
    resource = answer.json()
    assert resource["name"]["familyName"] == "" and resource["emails"] == []
    assert resource["active"] is True


@pytest.mark.parametrize(
    ("operations", "scim_type"),
    [
        ([{"op": "replace", "path": "active", "value": "maybe"}], "invalidValue"),
        ([{"op": "remove", "path": "userName"}], "invalidValue"),
        ([{"op": "replace", "path": "groups", "value": []}], "mutability"),
        ([{"op": "replace", "path": "userName", "value": "has space"}], "invalidValue"),
        ([{"op": "replace", "path": "emails", "value": "not-an-address"}], "invalidValue"),
        ([{"op": "remove"}], "noTarget"),
        ([{"op": "move", "path": "active", "value": False}], "invalidSyntax"),
        ([{"op": "replace", "path": "emails[type eq", "value": "x"}], "invalidPath"),
    ],
)
def test_bad_patches_are_400_with_their_scim_type(scim, operations, scim_type):
    user = UserFactory(username="kim")
    answer = scim.patch(f"Users/{user.pk}", patch_op(*operations))
    assert answer.status_code == 400, answer.content
    assert answer.json()["scimType"] == scim_type
    user.refresh_from_db()
    assert user.is_active and user.username == "kim"


def test_renaming_onto_another_user_is_a_conflict(scim):
    UserFactory(username="taken")
    user = UserFactory(username="kim")
    answer = scim.patch(
        f"Users/{user.pk}", patch_op({"op": "replace", "path": "userName", "value": "TAKEN"})
    )
    assert answer.status_code == 409 and answer.json()["scimType"] == "uniqueness"


def test_etags_if_none_match_and_if_match(scim):
    user = UserFactory(username="kim")
    with time_machine.travel("2026-11-02 10:00:00Z", tick=False):
        first = scim.get(f"Users/{user.pk}")
    etag = first["ETag"]
    assert scim.get(f"Users/{user.pk}", headers={"If-None-Match": etag}).status_code == 304

    with time_machine.travel("2026-11-02 10:05:00Z", tick=False):
        rename = patch_op({"op": "replace", "path": "name.givenName", "value": "Kimberly"})
        changed = scim.patch(f"Users/{user.pk}", rename, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag

    stale = scim.patch(f"Users/{user.pk}", rename, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert scim.delete(f"Users/{user.pk}", headers={"If-Match": etag}).status_code == 412
    assert scim.get(f"Users/{user.pk}", headers={"If-None-Match": etag}).status_code == 200
    fresh = changed["ETag"]
    assert (
        scim.put(f"Users/{user.pk}", {"userName": "kim"}, headers={"If-Match": fresh}).status_code
        == 200
    )


def test_an_unchanged_write_keeps_the_version_and_records_nothing(scim):
    user = UserFactory(username="kim", first_name="Kim")
    before = scim.get(f"Users/{user.pk}")["ETag"]
    same = patch_op({"op": "replace", "path": "name.givenName", "value": "Kim"})
    assert scim.patch(f"Users/{user.pk}", same)["ETag"] == before
    assert not AuditEvent.objects.filter(action="scim_user_updated").exists()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName eq "ann"', ["ann"]),
        ('USERNAME Eq "ANN"', ["ann"]),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ann"', ["ann"]),
        ('emails.value eq "BEN@example.com"', ["ben"]),
        ('emails[value eq "ben@example.com"]', ["ben"]),
        ('displayName eq "Ann Lee"', ["ann"]),
        ('displayName eq "cy"', ["cy"]),
        ("active eq false", ["cy"]),
        ('active eq true and userName sw "a"', ["ann"]),
        ('userName eq "ann" or userName eq "cy"', ["ann", "cy"]),
        ('not (userName eq "ann") and active eq true', ["ben"]),
        ('userName co "n"', ["ann", "ben"]),
        ('userName ew "Y"', ["cy"]),
        ('id eq "not-a-number"', []),
        ("externalId pr", ["ben"]),
        ('externalId eq "ext-ben"', ["ben"]),
    ],
)
def test_user_filters(scim, expression, expected):
    UserFactory(username="ann", first_name="Ann", last_name="Lee")
    ben = UserFactory(username="ben", email="ben@example.com")
    Person.objects.create(user=ben, external_id="ext-ben")
    UserFactory(username="cy", is_active=False, email="")

    answer = scim.client.get("/scim/v2/Users", {"filter": expression}, headers=scim.headers)

    assert answer.status_code == 200, answer.content
    assert sorted(r["userName"] for r in answer.json()["Resources"]) == expected


@pytest.mark.parametrize(
    "expression",
    [
        'title eq "x"',
        'userName gt "a"',
        'userName eq "unterminated',
        "userName eq",
        'userName xx "a"',
        '(userName eq "a"',
        'active eq "yes"',
        "",
    ],
)
def test_filters_that_cannot_be_read_are_400_invalid_filter(scim, expression):
    answer = scim.client.get("/scim/v2/Users", {"filter": expression}, headers=scim.headers)
    assert answer.status_code == 400
    assert answer.json()["scimType"] == "invalidFilter"
    assert answer.json()["detail"]


def test_paging_edges(scim):
    for n in range(5):
        UserFactory(username=f"u{n}")

    def page(query: str) -> dict:
        return scim.get(f"Users?{query}").json()

    assert [r["userName"] for r in page("startIndex=2&count=2")["Resources"]] == ["u1", "u2"]
    assert page("startIndex=0&count=1")["startIndex"] == 1
    assert page("startIndex=-4&count=1")["Resources"][0]["userName"] == "u0"
    only_total = page("count=0")
    assert only_total["totalResults"] == 5 and only_total["Resources"] == []
    assert page("count=-3")["itemsPerPage"] == 0
    assert page("startIndex=9")["Resources"] == [] and page("startIndex=9")["totalResults"] == 5
    assert page("count=100000")["itemsPerPage"] == 5
    wrong = scim.get("Users?count=ten")
    assert wrong.status_code == 400 and wrong.json()["scimType"] == "invalidValue"


def test_attributes_and_excluded_attributes(scim):
    team = TeamFactory(name="Ops")
    user = UserFactory(username="kim")
    team.members.add(user)

    full = scim.get(f"Users/{user.pk}").json()
    assert full["groups"][0]["value"] == str(team.pk) and full["groups"][0]["display"] == "Ops"
    lean = scim.get(f"Users/{user.pk}?excludedAttributes=groups,emails").json()
    assert "groups" not in lean and "emails" not in lean and "userName" in lean
    picked = scim.get(f"Users/{user.pk}?attributes=userName").json()
    assert set(picked) == {"schemas", "id", "meta", "userName"}


def test_listing_users_costs_the_same_queries_for_any_number(scim, django_assert_max_num_queries):
    teams = [TeamFactory() for _ in range(3)]
    for n in range(30):
        user = UserFactory(username=f"member{n}")
        Person.objects.create(user=user, external_id=f"x{n}")
        user.appkeeper_teams.add(*teams)
    scim.get("Users")  # the token's last_used_at is written on first use only
    # The token, the count, the page and its teams.
    with django_assert_max_num_queries(4):
        answer = scim.get("Users?count=200")
    assert len(answer.json()["Resources"]) == 30
    assert all(len(r["groups"]) == 3 for r in answer.json()["Resources"])
