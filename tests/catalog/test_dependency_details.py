"""How an app depends on another over the API: which operations it calls, which contract
versions it is built for, and whether it is left behind on an old one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog.models import AuditEvent, Contract, Dependency, MicroApp
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/apps/"


def contract(app, version, *, days_ago=0, paths=None):
    return Contract.objects.create(
        app=app,
        kind="openapi",
        version=version,
        document={"openapi": "3.0.3", "paths": paths or {}},
        sha256=Contract.digest(f"{app.slug}-{version}"),
        created_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def fleet(alice, carol, support_tools, field_ops):
    """router (alice's) may call tickets and billing (carol's, live)."""
    router = MicroAppFactory(
        slug="router", name="Router", team=support_tools, owner=alice, state="active"
    )
    tickets = MicroAppFactory(
        slug="tickets", name="Tickets", team=field_ops, owner=carol, state="active"
    )
    billing = MicroAppFactory(
        slug="billing", name="Billing", team=field_ops, owner=carol, state="active"
    )
    return {"router": router, "tickets": tickets, "billing": billing}


def test_dependencies_are_written_and_read_back_with_their_details(api_as, alice, fleet):
    contract(fleet["tickets"], "1.4.0", days_ago=30)
    contract(fleet["tickets"], "2.0.0", days_ago=3)
    client = api_as(alice)

    response = client.patch(
        f"{URL}router/",
        {
            "dependencies": [
                {
                    "app": "tickets",
                    "uses": ["get /tickets/{id}", "POST  /tickets"],
                    "version_range": "^1",
                },
                {"app": "billing"},
            ]
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = client.get(f"{URL}router/").json()
    assert body["depends_on"] == ["billing", "tickets"]
    assert body["dependencies"] == [
        {
            "app": "billing",
            "uses": [],
            "version_range": "",
            "current_version": None,
            "pinned_behind": False,
        },
        {
            "app": "tickets",
            "uses": ["GET /tickets/{id}", "POST /tickets"],
            "version_range": "^1",
            "current_version": "2.0.0",
            "pinned_behind": True,
        },
    ]
    # The write answers the same as the read.
    assert response.json()["dependencies"] == body["dependencies"]
    link = Dependency.objects.get(from_microapp=fleet["router"], to_microapp=fleet["tickets"])
    assert (link.uses, link.version_range) == (["GET /tickets/{id}", "POST /tickets"], "^1")


def test_a_registration_declares_dependencies_too(api_as, alice, fleet, regions):
    response = api_as(alice).post(
        URL,
        {
            "slug": "intake",
            "name": "Intake",
            "kind": "integration",
            "team": "support-tools",
            "environment": "staging",
            "dependencies": [{"app": "tickets", "uses": ["Query.tickets"], "version_range": "1.x"}],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["dependencies"][0]["uses"] == ["Query.tickets"]
    event = AuditEvent.objects.get(app__slug="intake", action="created")
    assert event.changes["dependency_details"] == [
        None,
        {"tickets": {"uses": ["Query.tickets"], "version_range": "1.x"}},
    ]


def test_a_detail_left_out_keeps_what_the_link_has(api_as, alice, fleet):
    fleet["router"].depends_on.add(fleet["tickets"])
    Dependency.objects.filter(to_microapp=fleet["tickets"]).update(
        uses=["GET /tickets"], version_range="^1"
    )
    client = api_as(alice)

    client.patch(
        f"{URL}router/",
        {"dependencies": [{"app": "tickets", "version_range": "^2"}]},
        format="json",
    )

    link = Dependency.objects.get(to_microapp=fleet["tickets"])
    assert (link.uses, link.version_range) == (["GET /tickets"], "^2")
    # An explicit empty value clears it.
    client.patch(f"{URL}router/", {"dependencies": [{"app": "tickets", "uses": []}]}, format="json")
    link.refresh_from_db()
    assert (link.uses, link.version_range) == ([], "^2")


def test_writing_depends_on_keeps_the_details_of_links_that_stay(api_as, alice, fleet):
    client = api_as(alice)
    client.patch(
        f"{URL}router/",
        {"dependencies": [{"app": "tickets", "uses": ["GET /tickets"], "version_range": "^1"}]},
        format="json",
    )

    response = client.patch(f"{URL}router/", {"depends_on": ["tickets", "billing"]}, format="json")

    assert response.status_code == 200
    details = {d["app"]: (d["uses"], d["version_range"]) for d in response.json()["dependencies"]}
    assert details == {"billing": ([], ""), "tickets": (["GET /tickets"], "^1")}
    client.patch(f"{URL}router/", {"depends_on": ["billing"]}, format="json")
    assert list(fleet["router"].depends_on.values_list("slug", flat=True)) == ["billing"]


def test_a_read_answer_sent_back_whole_is_accepted(api_as, alice, fleet):
    client = api_as(alice)
    client.patch(
        f"{URL}router/",
        {"dependencies": [{"app": "tickets", "uses": ["GET /tickets"], "version_range": "^1"}]},
        format="json",
    )
    body = client.get(f"{URL}router/").json()
    writable = {
        k: v
        for k, v in body.items()
        if k not in {"url", "risk", "policy_findings", "state", "expires_at", "last_seen_at"}
        and v is not None
    }
    writable["dependencies"][0]["version_range"] = "^2"

    response = client.put(f"{URL}router/", writable, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["dependencies"][0]["version_range"] == "^2"


def test_depends_on_and_dependencies_naming_different_apps_is_a_400(api_as, alice, fleet):
    response = api_as(alice).patch(
        f"{URL}router/",
        {"depends_on": ["billing"], "dependencies": [{"app": "tickets"}]},
        format="json",
    )

    assert response.status_code == 400
    assert "name different apps" in response.json()["depends_on"][0]
    assert not fleet["router"].depends_on.exists()


@pytest.mark.parametrize(
    ("entry", "field", "fragment"),
    [
        ({"app": "tickets", "uses": ["FETCH /tickets"]}, "uses", "not an HTTP method"),
        ({"app": "tickets", "uses": ["tickets"]}, "uses", '"METHOD /path"'),
        ({"app": "tickets", "uses": "GET /tickets"}, "uses", "list"),
        ({"app": "tickets", "version_range": "newest"}, "version_range", "not a version range"),
        ({"app": "tickets", "version_range": ">=2,<1"}, "version_range", "allows no version"),
        ({"app": "tickets", "version_range": 2}, "version_range", "valid string"),
        ({"app": "nowhere"}, "app", "does not exist"),
        ({"app": "router"}, "app", "cannot depend on itself"),
        ({"app": "billing"}, "app", "listed twice"),
        ({"uses": ["GET /tickets"]}, "app", "Name the app"),
    ],
)
def test_a_bad_entry_is_a_400_at_its_index_and_nothing_is_written(
    api_as, alice, fleet, entry, field, fragment
):
    body = {"dependencies": [{"app": "billing", "version_range": "1"}, entry]}

    response = api_as(alice).patch(f"{URL}router/", body, format="json")

    assert response.status_code == 400
    errors = response.json()["dependencies"]
    assert list(errors) == ["1"]
    assert fragment in " ".join(errors["1"][field]), errors
    assert not Dependency.objects.filter(from_microapp=fleet["router"]).exists()


def test_another_teams_draft_answers_like_a_missing_app(api_as, alice, carol, field_ops, fleet):
    MicroAppFactory(slug="secret-draft", team=field_ops, owner=carol, state="draft")
    client = api_as(alice)

    hidden = client.patch(
        f"{URL}router/", {"dependencies": [{"app": "secret-draft"}]}, format="json"
    ).json()
    missing = client.patch(
        f"{URL}router/", {"dependencies": [{"app": "no-such-app"}]}, format="json"
    ).json()

    assert hidden["dependencies"]["0"]["app"] == [
        m.replace("no-such-app", "secret-draft") for m in missing["dependencies"]["0"]["app"]
    ]


def test_the_audit_event_shows_the_details_that_changed(api_as, alice, fleet):
    client = api_as(alice)
    client.patch(f"{URL}router/", {"depends_on": ["tickets"]}, format="json")

    client.patch(
        f"{URL}router/",
        {"dependencies": [{"app": "tickets", "uses": ["GET /tickets"], "version_range": "^1"}]},
        format="json",
    )
    unchanged = client.patch(
        f"{URL}router/",
        {"dependencies": [{"app": "tickets", "uses": ["GET /tickets"], "version_range": "^1"}]},
        format="json",
    )

    assert unchanged.status_code == 200
    events = list(AuditEvent.objects.filter(app=fleet["router"], action="updated").order_by("pk"))
    assert [sorted(e.changes) for e in events] == [["depends_on"], ["dependency_details"]]
    assert events[1].changes["dependency_details"] == [
        {},
        {"tickets": {"uses": ["GET /tickets"], "version_range": "^1"}},
    ]
    assert events[1].actor == alice


def test_pinned_behind_lists_the_apps_left_on_an_old_version(api_as, fin, fleet, support_tools):
    tickets, billing = fleet["tickets"], fleet["billing"]
    contract(tickets, "2.0.0")
    contract(billing, "v3")
    behind = fleet["router"]
    within = MicroAppFactory(slug="within", name="Within", team=support_tools, state="active")
    follows = MicroAppFactory(slug="follows", name="Follows", team=support_tools, state="active")
    ahead = MicroAppFactory(slug="ahead", name="Ahead", team=support_tools, state="active")
    Dependency.objects.bulk_create(
        [
            Dependency(from_microapp=behind, to_microapp=tickets, version_range="^1"),
            Dependency(from_microapp=behind, to_microapp=billing, version_range="3"),
            Dependency(from_microapp=within, to_microapp=tickets, version_range=">=1,<3"),
            Dependency(from_microapp=follows, to_microapp=tickets),
            Dependency(from_microapp=ahead, to_microapp=billing, version_range="^4"),
        ]
    )
    client = api_as(fin)

    pinned = client.get(URL, {"pinned_behind": "true", "fields": "slug"}).json()["results"]
    others = client.get(URL, {"pinned_behind": "false", "fields": "slug"}).json()["results"]

    assert [row["slug"] for row in pinned] == ["router"]
    assert [row["slug"] for row in others] == ["ahead", "billing", "follows", "tickets", "within"]
    assert client.get(URL, {"pinned_behind": "maybe"}).status_code == 400
    flags = {
        d["app"]: d["pinned_behind"] for d in client.get(f"{URL}router/").json()["dependencies"]
    }
    assert flags == {"billing": False, "tickets": True}
    # A provider that is retired no longer holds anyone behind, in the list or the field.
    MicroApp.objects.filter(pk=tickets.pk).update(state="retired")
    assert client.get(URL, {"pinned_behind": "true"}).json()["count"] == 0
    dependencies = client.get(f"{URL}router/").json()["dependencies"]
    assert not any(d["pinned_behind"] for d in dependencies)


@pytest.mark.parametrize("size", [3, 40])
def test_the_list_reads_dependencies_and_current_versions_in_one_query(
    api_as, alice, support_tools, django_assert_max_num_queries, size
):
    apps = MicroAppFactory.create_batch(size, team=support_tools, owner=alice, state="active")
    for index, app in enumerate(apps):
        contract(app, f"{index % 3 + 1}.0.0")
    Dependency.objects.bulk_create(
        Dependency(from_microapp=first, to_microapp=second, uses=["GET /x"], version_range="^1")
        for first, second in zip(apps, apps[1:], strict=False)
    )
    client = api_as(alice)

    # The caller's groups, COUNT, the page, its regions, its dependency links.
    with django_assert_max_num_queries(5):
        full = client.get(URL, {"page_size": 500})
    # The groups, COUNT, the page, the links.
    with django_assert_max_num_queries(4):
        sparse = client.get(URL, {"page_size": 500, "fields": "slug,dependencies"})
    # The groups, COUNT, the page (the behind apps' ids come in as a subquery-free list).
    with django_assert_max_num_queries(4):
        behind = client.get(URL, {"page_size": 500, "fields": "slug", "pinned_behind": "true"})

    rows = full.json()["results"]
    assert len(rows) == size
    assert sum(1 for row in rows for d in row["dependencies"] if d["pinned_behind"]) == len(
        [a for a in apps[1:] if apps.index(a) % 3 != 0]
    )
    assert [row["dependencies"] for row in sparse.json()["results"]] == [
        row["dependencies"] for row in rows
    ]
    assert behind.json()["count"] == sum(
        1 for row in rows if any(d["pinned_behind"] for d in row["dependencies"])
    )


def test_the_schema_documents_dependencies_and_the_filter(pat):
    from django.test import Client

    client = Client()
    client.force_login(pat)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    entry = components["Dependency"]["properties"]
    assert set(entry) == {"app", "uses", "version_range", "current_version", "pinned_behind"}
    assert entry["current_version"]["readOnly"] and entry["pinned_behind"]["readOnly"]
    parameters = {p["name"] for p in schema["paths"]["/api/v1/apps/"]["get"]["parameters"]}
    assert "pinned_behind" in parameters


def test_a_version_scheduled_for_later_holds_nobody_behind_until_it_takes_effect(
    api_as, fin, fleet
):
    tickets = fleet["tickets"]
    contract(tickets, "1.4.0", days_ago=10)
    scheduled = contract(tickets, "2.0.0")
    scheduled.effective_at = timezone.now() + timedelta(days=30)
    scheduled.save(update_fields=["effective_at"])
    Dependency.objects.create(
        from_microapp=fleet["router"], to_microapp=tickets, version_range="^1"
    )
    client = api_as(fin)

    (link,) = client.get(f"{URL}router/").json()["dependencies"]
    assert (link["current_version"], link["pinned_behind"]) == ("1.4.0", False)
    assert client.get(URL, {"pinned_behind": "true"}).json()["count"] == 0

    with time_machine.travel(scheduled.effective_at + timedelta(minutes=1)):
        (link,) = client.get(f"{URL}router/").json()["dependencies"]
        assert (link["current_version"], link["pinned_behind"]) == ("2.0.0", True)
