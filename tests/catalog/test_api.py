"""The registry API as clients use it: auth, roles, validation, filters, audit, budgets."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import AuditEvent, MicroApp
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/apps/"


def payload(**overrides) -> dict:
    body = {
        "slug": "ticket-router",
        "name": "Ticket Router",
        "description": "Routes tickets by language.",
        "kind": "integration",
        "team": "support-tools",
        "contact": "#support-tools",
        "runtime": "aws-lambda",
        "environment": "production",
        "criticality": "standard",
        "handles_pii": True,
        "data_residency": "EU",
        "regions": ["eu-central"],
        "sla_availability": "99.9",
        "sla_p95_ms": 300,
        "sla_support_hours": "business",
        "docs_url": "https://docs.example.com/ticket-router",
        "tags": ["tickets"],
    }
    body.update(overrides)
    return body


def test_anonymous_callers_are_refused(api):
    assert api.get(URL).status_code in (401, 403)


def test_registering_an_app_defaults_owner_to_caller_and_starts_in_draft(api_as, alice, regions):
    response = api_as(alice).post(URL, payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == "alice"
    assert body["state"] == "draft"
    assert body["risk"] == "high"
    assert body["regions"] == ["eu-central"]
    assert body["expires_at"] is None


def test_registering_writes_an_audit_event_with_request_id_in_the_same_request(
    api_as, alice, regions
):
    response = api_as(alice).post(URL, payload(), format="json", HTTP_X_REQUEST_ID="req-123")

    event = AuditEvent.objects.get(app__slug="ticket-router")
    assert response["X-Request-ID"] == "req-123"
    assert event.action == "created"
    assert event.actor == alice
    assert event.request_id == "req-123"
    assert event.changes["regions"] == [None, ["eu-central"]]
    assert event.changes["handles_pii"] == [None, True]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"data_residency": ""}, "data_residency", "personal data"),
        ({"regions": ["mars-north"]}, "regions", "mars-north"),
        ({"kind": "spaceship"}, "kind", "not a valid choice"),
        ({"slug": "Not A Slug"}, "slug", "lowercase"),
        ({"team": "field-ops"}, "team", "your own teams"),
        ({"sla_availability": "120"}, "sla_availability", "less than or equal"),
        ({"tags": ["Has Spaces"]}, "tags", "lowercase"),
        ({"docs_url": "not-a-url"}, "docs_url", "valid URL"),
    ],
)
def test_invalid_fields_get_field_level_messages_and_nothing_is_written(
    api_as, alice, regions, field_ops, overrides, field, message
):
    response = api_as(alice).post(URL, payload(**overrides), format="json")

    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert message.lower() in json.dumps(errors[field]).lower()
    assert not MicroApp.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("slug", ["new", "validate", "import", "transfer"])
def test_slugs_of_fixed_routes_are_reserved(api_as, alice, regions, slug):
    response = api_as(alice).post(URL, payload(slug=slug), format="json")
    assert response.status_code == 400
    assert "reserved" in response.json()["slug"][0]


def test_slug_clash_is_a_field_error(api_as, alice, regions):
    client = api_as(alice)
    assert client.post(URL, payload(), format="json").status_code == 201

    response = client.post(URL, payload(name="Other"), format="json")

    assert response.status_code == 400
    assert response.json()["slug"] == ["Another app already uses this slug."]


def test_platform_team_may_register_for_any_team(api_as, pat, support_tools, regions):
    response = api_as(pat).post(URL, payload(), format="json")
    assert response.status_code == 201
    assert response.json()["team"] == "support-tools"


def test_owner_updates_and_audit_records_only_changed_fields(api_as, alice, regions):
    client = api_as(alice)
    client.post(URL, payload(), format="json")

    response = client.patch(
        f"{URL}ticket-router/", {"name": "Ticket Router 2", "regions": ["eu-sovereign"]}
    )

    assert response.status_code == 200, response.json()
    event = AuditEvent.objects.filter(action="updated").get()
    assert event.changes == {
        "name": ["Ticket Router", "Ticket Router 2"],
        "regions": [["eu-central"], ["eu-sovereign"]],
    }


def test_team_member_may_edit_the_team_app(api_as, alice, bob, regions):
    api_as(alice).post(URL, payload(), format="json")
    response = api_as(bob).patch(f"{URL}ticket-router/", {"contact": "#tickets"})
    assert response.status_code == 200


def test_other_team_cannot_change_an_app_and_nothing_changes(api_as, alice, carol, regions):
    api_as(alice).post(URL, payload(), format="json")
    app = MicroApp.objects.get()
    app.send_to_review(by=alice)  # visible to everyone once out of draft

    client = api_as(carol)
    read = client.get(f"{URL}ticket-router/")
    patch = client.patch(f"{URL}ticket-router/", {"name": "Hijacked"})
    retire = client.post(f"{URL}ticket-router/retire/", {"reason": "I do not like it"})

    assert read.status_code == 200
    assert patch.status_code == 403
    assert retire.status_code == 403
    app.refresh_from_db()
    assert app.name == "Ticket Router"
    assert app.state == "in_review"


def test_other_teams_drafts_are_invisible(api_as, alice, carol, regions):
    api_as(alice).post(URL, payload(), format="json")
    client = api_as(carol)

    assert client.get(f"{URL}ticket-router/").status_code == 404
    assert client.patch(f"{URL}ticket-router/", {"name": "x"}).status_code == 404
    assert client.get(URL).json()["count"] == 0


def test_slug_cannot_be_changed(api_as, alice, regions):
    client = api_as(alice)
    client.post(URL, payload(), format="json")
    response = client.patch(f"{URL}ticket-router/", {"slug": "other"})
    assert response.status_code == 400
    assert "slug" in response.json()


def test_apps_are_never_deleted_only_retired(api_as, alice, pat, regions):
    api_as(alice).post(URL, payload(), format="json")

    assert api_as(pat).delete(f"{URL}ticket-router/").status_code == 405
    response = api_as(pat).post(f"{URL}ticket-router/retire/", {"reason": "Replaced by CRM"})

    assert response.status_code == 200
    app = MicroApp.objects.get()
    assert app.state == "retired"
    assert app.retired_reason == "Replaced by CRM"
    assert AuditEvent.objects.filter(app=app, action="retired").exists()
    # Retired apps leave the default list but stay one filter away.
    assert api_as(pat).get(URL).json()["count"] == 0
    assert api_as(pat).get(URL, {"state": "retired"}).json()["count"] == 1
    assert api_as(pat).get(URL, {"include_retired": "true"}).json()["count"] == 1


def test_retiring_twice_is_a_conflict(api_as, pat, alice, regions):
    api_as(alice).post(URL, payload(), format="json")
    client = api_as(pat)
    client.post(f"{URL}ticket-router/retire/", {"reason": "Replaced by CRM"})
    response = client.post(f"{URL}ticket-router/retire/", {"reason": "Again please"})
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_a_conflict_answers_its_own_code_or_invalid_transition():
    from catalog.api.exceptions import exception_handler
    from catalog.models import TransitionError

    coded = exception_handler(TransitionError("Not now.", code="renewal_not_allowed"), {})
    assert (coded.status_code, coded.data) == (
        409,
        {"detail": "Not now.", "code": "renewal_not_allowed"},
    )
    plain = exception_handler(TransitionError("Not now."), {})
    assert plain.data["code"] == "invalid_transition"


def test_token_authentication(alice, regions):
    from core import tokens

    _, value = tokens.issue(user=alice, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {value}")
    assert client.get(URL).status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(URL).status_code == 401


@pytest.fixture
def fleet(alice, carol, support_tools, field_ops, regions):
    now = timezone.now()
    a = MicroAppFactory(
        slug="alpha",
        name="Alpha",
        team=support_tools,
        owner=alice,
        state="active",
        kind="widget",
        environment="production",
        criticality="critical",
        handles_pii=True,
        data_residency="EU",
        expires_at=now + timedelta(days=5),
        regions=[regions["eu-central"]],
        description="Routes invoices",
    )
    b = MicroAppFactory(
        slug="beta",
        name="Beta",
        team=field_ops,
        owner=carol,
        state="active",
        kind="integration",
        environment="staging",
        expires_at=now + timedelta(days=50),
        regions=[regions["us-east"]],
    )
    c = MicroAppFactory(
        slug="gamma",
        name="Gamma",
        team=field_ops,
        owner=carol,
        state="expired",
        kind="ui",
        environment="sandbox",
        criticality="prototype",
        externally_exposed=True,
        regions=[regions["us-east"], regions["eu-central"]],
    )
    return a, b, c


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"team": "support-tools"}, ["alpha"]),
        ({"team": "field-ops"}, ["beta", "gamma"]),
        ({"state": "expired"}, ["gamma"]),
        ({"state": ["active", "expired"]}, ["alpha", "beta", "gamma"]),
        ({"risk": "high"}, ["alpha", "gamma"]),
        ({"risk": "low"}, ["beta"]),
        ({"region": "eu-central"}, ["alpha", "gamma"]),
        ({"kind": "ui"}, ["gamma"]),
        ({"environment": "production"}, ["alpha"]),
        ({"criticality": "critical"}, ["alpha"]),
        ({"q": "invoice"}, ["alpha"]),
        ({"q": "GAM"}, ["gamma"]),
        ({"tag": "demo"}, ["alpha", "beta", "gamma"]),
    ],
)
def test_list_filters(api_as, alice, fleet, query, expected):
    response = api_as(alice).get(URL, query)
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == expected


def test_region_filter_lists_an_app_in_several_matching_regions_once(api_as, alice, fleet):
    body = api_as(alice).get(URL, {"region": ["eu-central", "us-east"]}).json()

    assert [row["slug"] for row in body["results"]] == ["alpha", "beta", "gamma"]
    assert body["count"] == 3


def test_list_rows_are_exactly_the_detail_json(api_as, alice, fleet, regions, rf):
    """List rows (read from ``for_api``'s prefetched lists) are the detail's JSON and what
    the write serializer answers for the same apps, nulls, decimals, times and relations
    included; only ``policy_findings`` is null in lists by design."""
    alpha, beta, gamma = fleet
    alpha.depends_on.add(beta, gamma)
    beta.depends_on.add(gamma)
    MicroApp.objects.filter(pk=beta.pk).update(
        sla_availability=None,
        sla_p95_ms=None,
        tags=[],
        last_seen_at=timezone.now(),
        docs_url="https://docs.example.com/beta",
        data_residency="",
    )
    client = api_as(alice)

    rows = client.get(URL, {"include_retired": "true"}).json()["results"]

    assert [row["slug"] for row in rows] == ["alpha", "beta", "gamma"]
    assert rows[0]["depends_on"] == ["beta", "gamma"]
    assert rows[2]["regions"] == ["eu-central", "us-east"]
    for row in rows:
        detail = client.get(row["url"]).json()
        assert detail["policy_findings"] is not None
        assert row["policy_findings"] is None
        assert {**row, "policy_findings": None} == {**detail, "policy_findings": None}
    # And the write serializer (related managers, whole apps) gives the same rows.
    from rest_framework.request import Request

    from catalog.api.serializers import MicroAppSerializer

    request = Request(rf.get(URL))
    apps = MicroApp.objects.for_list().order_by("name")
    written = MicroAppSerializer(apps, many=True, context={"request": request}).data
    assert json.loads(json.dumps(written, default=str)) == rows


def test_dependencies_with_equal_names_keep_a_stable_order(api_as, alice, fleet):
    alpha, beta, gamma = fleet
    MicroApp.objects.filter(pk__in=[beta.pk, gamma.pk]).update(name="Same")
    alpha.depends_on.add(gamma, beta)
    client = api_as(alice)

    row = client.get(URL, {"team": "support-tools"}).json()["results"][0]
    detail = client.get(f"{URL}alpha/").json()

    # By name, then by registration (id) among equal names: beta was created first.
    assert row["depends_on"] == detail["depends_on"] == ["beta", "gamma"]


def test_a_format_suffix_lists_the_same_rows(api_as, alice, fleet):
    """``/apps.json``: same rows, with the format in every ``url`` as DRF writes it."""
    client = api_as(alice)
    plain = client.get(URL).json()["results"]
    suffixed = client.get("/api/v1/apps.json").json()["results"]

    assert [row["url"] for row in suffixed] == [
        row["url"].removesuffix("/") + ".json" for row in plain
    ]
    assert [{**row, "url": None} for row in suffixed] == [{**row, "url": None} for row in plain]


def test_expires_before_filter(api_as, alice, fleet):
    cutoff = (timezone.now() + timedelta(days=10)).isoformat()
    response = api_as(alice).get(URL, {"expires_before": cutoff})
    assert [row["slug"] for row in response.json()["results"]] == ["alpha"]


def test_unknown_filter_values_are_400_not_500(api_as, alice, fleet):
    client = api_as(alice)
    assert client.get(URL, {"state": "sleeping"}).status_code == 400
    assert client.get(URL, {"team": "nobody"}).status_code == 400
    assert client.get(URL, {"expires_before": "yesterday"}).status_code == 400


def test_empty_filter_values_mean_no_filter(api_as, alice, fleet):
    # ``?state=`` is what a form's "any" option sends; it must not be an unknown value.
    empty = dict.fromkeys(("team", "team_id", "state", "risk", "region", "kind"), "")
    response = api_as(alice).get(URL, {**empty, "environment": "", "criticality": ""})
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == ["alpha", "beta", "gamma"]
    response = api_as(alice).get(URL, {"state": ["expired", ""], "team": ""})
    assert [row["slug"] for row in response.json()["results"]] == ["gamma"]


def test_ordering_and_page_size(api_as, alice, fleet):
    client = api_as(alice)
    ordered = client.get(URL, {"ordering": "-expires_at"}).json()["results"]
    assert [r["slug"] for r in ordered][:2] == ["beta", "alpha"]

    page = client.get(URL, {"page_size": 2}).json()
    assert len(page["results"]) == 2
    assert page["count"] == 3
    assert page["next"]


def test_page_size_goes_up_to_500_and_beyond_is_a_clear_400(api_as, alice, support_tools):
    MicroAppFactory.create_batch(501, team=support_tools, owner=alice, state="active")
    client = api_as(alice)
    assert len(client.get(URL, {"page_size": 500}).json()["results"]) == 500
    too_many = client.get(URL, {"page_size": 1000})
    assert too_many.status_code == 400
    assert "500" in str(too_many.json()["page_size"])


@pytest.mark.parametrize("size", [5, 200])
def test_list_query_count_does_not_grow_with_apps(
    api_as, alice, support_tools, regions, django_assert_max_num_queries, size
):
    apps = MicroAppFactory.create_batch(
        size,
        team=support_tools,
        owner=alice,
        state="active",
        regions=[regions["eu-central"], regions["us-east"]],
    )
    for first, second in zip(apps, apps[1:], strict=False):
        first.depends_on.add(second)
    people = UserFactory.create_batch(3)
    for app in apps:
        app.co_owners.add(*people)
    client = api_as(alice)

    # The caller's groups, COUNT, the page (with its co-owners), its regions, its
    # dependencies.
    with django_assert_max_num_queries(5):
        response = client.get(URL, {"page_size": 500})

    assert response.status_code == 200
    assert len(response.json()["results"]) == size


def test_teams_and_regions_are_read_by_all_and_written_by_platform(api_as, alice, pat, regions):
    assert api_as(alice).get("/api/v1/regions/").json()["count"] == 4
    assert api_as(alice).get("/api/v1/teams/support-tools/").status_code == 200
    new_region = {"code": "ch-north", "name": "Zurich", "jurisdiction": "CH"}
    assert api_as(alice).post("/api/v1/regions/", new_region).status_code == 403
    assert api_as(pat).post("/api/v1/regions/", new_region).status_code == 201
    assert api_as(alice).patch("/api/v1/teams/support-tools/", {"name": "X"}).status_code == 403
    assert api_as(pat).delete("/api/v1/teams/support-tools/").status_code == 405
