"""Sparse fieldsets on the app list and detail: ``?fields=`` and ``?brief=true``."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.api.serializers import MicroAppReadSerializer
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/apps/"
ALL_FIELDS = MicroAppReadSerializer.Meta.fields
BRIEF = ["slug", "name", "team", "state", "url"]


@pytest.fixture
def apps(alice, support_tools, regions):
    first, second = (
        MicroAppFactory(
            slug=slug,
            name=name,
            team=support_tools,
            owner=alice,
            state="active",
            regions=[regions["eu-central"], regions["us-east"]],
        )
        for slug, name in (("alpha", "Alpha"), ("beta", "Beta"))
    )
    first.depends_on.add(second)
    first.co_owners.add(*UserFactory.create_batch(4))
    return first, second


def test_fields_answers_only_those_fields_in_the_usual_order(api_as, alice, apps):
    client = api_as(alice)
    full = client.get(URL).json()["results"]

    rows = client.get(URL, {"fields": "state,slug,regions"}).json()["results"]

    assert [list(row) for row in rows] == [["slug", "regions", "state"]] * 2
    assert rows == [{k: row[k] for k in ("slug", "regions", "state")} for row in full]


def test_fields_on_the_detail(api_as, alice, apps):
    client = api_as(alice)

    body = client.get(f"{URL}alpha/", {"fields": "slug,depends_on,owner"}).json()

    assert body == {"slug": "alpha", "owner": "alice", "depends_on": ["beta"]}


def test_every_field_can_be_asked_for_alone(api_as, alice, apps):
    client = api_as(alice)
    full_row = client.get(URL).json()["results"][0]
    full_detail = client.get(f"{URL}alpha/").json()

    for name in ALL_FIELDS:
        row = client.get(URL, {"fields": name}).json()["results"][0]
        detail = client.get(f"{URL}alpha/", {"fields": name}).json()
        assert row == {name: full_row[name]}, name
        assert detail == {name: full_detail[name]}, name


def test_the_detail_evaluates_policy_findings_when_asked_for(api_as, alice, apps):
    body = api_as(alice).get(f"{URL}alpha/", {"fields": "policy_findings"}).json()

    assert isinstance(body["policy_findings"], list)


def test_brief_is_a_small_fixed_representation(api_as, alice, apps):
    client = api_as(alice)
    full = client.get(URL).json()["results"]

    rows = client.get(URL, {"brief": "true"}).json()["results"]
    detail = client.get(f"{URL}alpha/", {"brief": "1"}).json()

    assert rows == [{k: row[k] for k in BRIEF} for row in full]
    assert detail == rows[0]
    assert detail == {
        "slug": "alpha",
        "name": "Alpha",
        "team": "support-tools",
        "state": "active",
        "url": "http://testserver/api/v1/apps/alpha/",
    }


def test_brief_false_is_the_full_representation(api_as, alice, apps):
    client = api_as(alice)

    assert client.get(URL, {"brief": "false"}).json() == client.get(URL).json()


@pytest.mark.parametrize(
    ("query", "key", "message"),
    [
        ({"fields": "slug,bogus"}, "fields", 'Unknown field: "bogus".'),
        ({"fields": "slug,Name,x"}, "fields", 'Unknown fields: "Name", "x".'),
        ({"fields": "slug,"}, "fields", 'Unknown field: "".'),
        ({"fields": "slug, name"}, "fields", 'Unknown field: " name".'),
        ({"fields": ""}, "fields", "Name at least one field."),
        ({"fields": ["slug", "name"]}, "fields", "Give fields once."),
        ({"brief": "yes"}, "brief", "Use true or false."),
        ({"brief": ""}, "brief", "Use true or false."),
        ({"brief": ["true", "true"]}, "brief", "Give brief once."),
        ({"brief": "true", "fields": "slug"}, "fields", "either fields or brief=true"),
    ],
)
@pytest.mark.parametrize("path", [URL, f"{URL}alpha/"])
def test_malformed_fieldsets_are_a_400_naming_what_is_valid(
    api_as, alice, apps, path, query, key, message
):
    response = api_as(alice).get(path, query)

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [key]
    assert message in body[key][0]
    if key == "fields" and "brief" not in message and "once" not in message:
        assert body[key][0].endswith(f"Valid fields: {', '.join(ALL_FIELDS)}.")


def test_authentication_comes_before_checking_the_fieldset(api):
    assert api.get(URL, {"fields": "bogus"}).status_code in (401, 403)


def test_writes_and_actions_answer_the_full_representation(api_as, alice, apps):
    client = api_as(alice)

    patched = client.patch(f"{URL}alpha/?fields=slug", {"contact": "#alpha"}, format="json")
    gate = client.get(f"{URL}alpha/gate/?fields=slug")

    assert patched.status_code == 200
    assert list(patched.json()) == list(ALL_FIELDS)
    assert gate.status_code == 200
    assert "checklist" in gate.json()


TEAM, OWNER = '"catalog_team"."slug"', '"auth_user"."username"'
REGIONS, DEPENDENCIES = "catalog_microapp_regions", "catalog_microapp_depends_on"
CO_OWNERS = '"co_owners_json"'  # read in the page's query when asked for


@pytest.mark.parametrize("size", [3, 60])
@pytest.mark.parametrize(
    ("query", "budget", "absent"),
    [
        # The caller's groups, COUNT and the page: no join, no prefetch.
        ({"fields": "slug,name,state"}, 3, [TEAM, OWNER, REGIONS, DEPENDENCIES, CO_OWNERS]),
        ({"brief": "true"}, 3, [OWNER, REGIONS, DEPENDENCIES, CO_OWNERS]),
        # ... plus one query for the regions.
        ({"fields": "slug,regions"}, 4, [TEAM, OWNER, DEPENDENCIES, CO_OWNERS]),
        # ... plus one for the dependencies (the co-owners come with the page).
        ({}, 5, []),
    ],
)
def test_a_fieldset_reads_only_what_it_shows(
    api_as,
    alice,
    support_tools,
    regions,
    django_assert_max_num_queries,
    size,
    query,
    budget,
    absent,
):
    batch = MicroAppFactory.create_batch(
        size, team=support_tools, owner=alice, state="active", regions=[regions["eu-central"]]
    )
    for first, second in zip(batch, batch[1:], strict=False):
        first.depends_on.add(second)
    people = UserFactory.create_batch(3)
    for app in batch:
        app.co_owners.add(*people)
    client = api_as(alice)

    with django_assert_max_num_queries(budget) as captured:
        response = client.get(URL, {"page_size": 500, **query})

    assert response.status_code == 200
    assert len(response.json()["results"]) == size
    sql = "\n".join(q["sql"] for q in captured.captured_queries)
    assert "ingestion_secret" not in sql
    for read in absent:
        assert read not in sql, read
    if "fields" in query and "description" not in query["fields"]:
        assert '"description"' not in sql


def test_the_detail_reads_a_fixed_number_of_queries(
    api_as, alice, apps, django_assert_max_num_queries
):
    client = api_as(alice)
    client.get(f"{URL}alpha/")  # the caller's groups, cached for the rest of the test

    # The app (with its co-owners, however many), its regions, its dependencies, its
    # latest contract and its observed calls (policy findings).
    with django_assert_max_num_queries(5):
        assert client.get(f"{URL}alpha/").status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get(f"{URL}alpha/", {"brief": "true"}).status_code == 200


@pytest.fixture
def schema(pat):
    client = Client()
    client.force_login(pat)
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@pytest.mark.parametrize("path", ["/api/v1/apps/", "/api/v1/apps/{slug}/"])
def test_fields_and_brief_are_documented(schema, path):
    operation = schema["paths"][path]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}

    fields = parameters["fields"]
    assert fields["schema"]["items"]["enum"] == list(ALL_FIELDS)
    assert (fields["style"], fields["explode"]) == ("form", False)
    assert parameters["brief"]["schema"] == {"type": "boolean"}
    assert all(f"`{name}`" in parameters["brief"]["description"] for name in BRIEF)


def test_read_answers_are_documented_with_no_field_required(schema):
    components = schema["components"]["schemas"]
    read = components["MicroAppRead"]

    # The same fields as the app written and answered by POST and PATCH, none required:
    # with ?fields= or ?brief=true an answer holds only some of them.
    assert "required" not in read
    assert read["properties"] == components["MicroApp"]["properties"]
    assert components["MicroApp"]["required"]
    detail = schema["paths"]["/api/v1/apps/{slug}/"]["get"]["responses"]["200"]
    assert detail["content"]["application/json"]["schema"]["$ref"].endswith("/MicroAppRead")
