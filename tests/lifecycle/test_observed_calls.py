"""Observed calls: what telemetry says an app calls, stored per day and compared with what
it declares, on its page, in the cleanup report, as a policy warning and on the ops page."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.choices import PLATFORM_GROUP, AppState
from catalog.models import AuditEvent, MicroApp
from lifecycle.models import ObservedCall, UsageReport
from lifecycle.observed import compare_app_calls
from tests.factories import MicroAppFactory
from tests.lifecycle.conftest import SECRET, body_of, live_app, report, sign

URL = "/api/v1/telemetry/"
pytestmark = pytest.mark.django_db

DAY0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def billing(carol, field_ops):
    return live_app(team=field_ops, owner=carol, slug="billing-api", name="Billing API")


@pytest.fixture
def search(carol, field_ops):
    return live_app(team=field_ops, owner=carol, slug="search", name="Search")


def post(client, body: bytes, msg_id: str = "msg_1"):
    return client.post(URL, data=body, content_type="application/json", **sign(body, msg_id=msg_id))


def calls_report(calls, day=None, region="eu-central", **extra):
    return report(day=day, region=region, calls=calls, **extra)


def send(client, calls, *, day=None, region="eu-central", msg_id=None):
    day = day or date.today()
    msg_id = msg_id or f"msg_{day.isoformat()}_{region}_{len(calls)}"
    response = post(client, body_of(reports=[calls_report(calls, day, region)]), msg_id)
    assert response.status_code == 202, response.content
    return response.json()


def stored():
    return {
        (c.callee.slug, c.region.code, c.date.isoformat()): (c.requests, c.errors)
        for c in ObservedCall.objects.select_related("callee", "region")
    }


# --- ingestion -------------------------------------------------------------------------


def test_calls_are_stored_per_callee_day_and_region_and_counted_in_the_answer(
    client, app, billing, search
):
    today = date.today()
    body = body_of(
        reports=[
            calls_report(
                [
                    {"app": "billing-api", "requests": 1200, "errors": 3},
                    {"app": "search", "requests": 40},
                ]
            ),
            calls_report([{"app": "billing-api", "requests": 10}], region="us-east"),
        ]
    )
    response = post(client, body)
    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["accepted"] == 2 and answer["calls"] == 3 and answer["ignored_calls"] == []
    day = today.isoformat()
    assert stored() == {
        ("billing-api", "eu-central", day): (1200, 3),
        ("search", "eu-central", day): (40, 0),
        ("billing-api", "us-east", day): (10, 0),
    }
    assert ObservedCall.objects.filter(caller=app).count() == 3
    assert UsageReport.objects.filter(app=app).count() == 2


def test_a_later_push_of_the_day_replaces_the_calls_it_names_and_keeps_the_others(
    client, app, billing, search
):
    send(
        client,
        [{"app": "billing-api", "requests": 5}, {"app": "search", "requests": 3}],
        msg_id="a",
    )
    send(client, [{"app": "billing-api", "requests": 7, "errors": 1}], msg_id="b")
    send(client, [{"app": "billing-api", "requests": 2}], region="us-east", msg_id="c")
    day = date.today().isoformat()
    assert stored() == {
        ("billing-api", "eu-central", day): (7, 1),
        ("search", "eu-central", day): (3, 0),
        ("billing-api", "us-east", day): (2, 0),
    }


def test_a_report_without_calls_leaves_the_days_calls_alone(client, app, billing):
    send(client, [{"app": "billing-api", "requests": 5}], msg_id="a")
    assert post(client, body_of(reports=[report(requests=9)]), "b").status_code == 202
    assert stored() == {("billing-api", "eu-central", date.today().isoformat()): (5, 0)}


def test_a_retry_with_the_same_webhook_id_stores_the_calls_once_and_replays_the_answer(
    client, app, billing
):
    body = body_of(
        reports=[
            calls_report([{"app": "billing-api", "requests": 5}, {"app": "nope", "requests": 1}])
        ]
    )
    first = post(client, body, "same")
    ObservedCall.objects.update(requests=99)  # a replay must not write again
    again = post(client, body, "same")
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.content == first.content  # byte for byte, jsonb's key order included
    assert list(ObservedCall.objects.values_list("requests", flat=True)) == [99]


def test_calls_the_catalog_cannot_record_are_left_out_and_reported_back(
    client, app, billing, carol, field_ops
):
    MicroAppFactory(slug="new-thing", team=field_ops, owner=carol, state=AppState.DRAFT)
    live_app(slug="old-thing", team=field_ops, owner=carol, state=AppState.RETIRED)
    calls = [
        {"app": "billing-api", "requests": 5},
        {"app": "no-such-app", "requests": 1},
        {"app": "new-thing", "requests": 1},
        {"app": "old-thing", "requests": 1},
        {"app": "ticket-router", "requests": 1},
    ]
    answer = send(client, calls)
    assert answer["accepted"] == 1 and answer["calls"] == 1
    assert answer["ignored_calls"] == [
        {
            "index": 0,
            "field": "calls[1].app",
            "message": "No app 'no-such-app' in the catalog; not recorded.",
        },
        # A draft is answered like an unknown slug: drafts are invisible outside their team.
        {
            "index": 0,
            "field": "calls[2].app",
            "message": "No app 'new-thing' in the catalog; not recorded.",
        },
        {"index": 0, "field": "calls[3].app", "message": "old-thing is retired; not recorded."},
        {
            "index": 0,
            "field": "calls[4].app",
            "message": "An app's calls to itself are not dependencies; not recorded.",
        },
    ]
    assert set(stored()) == {("billing-api", "eu-central", date.today().isoformat())}


@pytest.mark.parametrize(
    ("calls", "field", "message"),
    [
        ("billing-api", "calls", "Must be a list of calls"),
        (["billing-api"], "calls[0]", "Each call must be a JSON object."),
        ([{"app": "Billing API", "requests": 1}], "calls[0].app", "Must be the called app's slug"),
        ([{"app": "billing-api"}], "calls[0].requests", "This field is required."),
        (
            [{"app": "billing-api", "requests": "12"}],
            "calls[0].requests",
            "Must be a whole number.",
        ),
        (
            [{"app": "billing-api", "requests": 1, "errors": -1}],
            "calls[0].errors",
            "Must not be negative.",
        ),
        (
            [{"app": "billing-api", "requests": 1}, {"app": "billing-api", "requests": 2}],
            "calls[1].app",
            "Duplicates call 0 (same app).",
        ),
        (
            [{"app": f"a{i}", "requests": 1} for i in range(101)],
            "calls",
            "At most 100 calls per report.",
        ),
    ],
)
def test_a_malformed_call_refuses_the_whole_delivery_with_its_report_index_and_field(
    client, app, billing, calls, field, message
):
    body = body_of(reports=[report(), calls_report(calls, region="us-east")])
    response = post(client, body)
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert error["index"] == 1 and error["field"] == field and error["message"].startswith(message)
    assert response.json()["detail"].startswith(f"Report 1, {field}: ")
    assert not UsageReport.objects.exists() and not ObservedCall.objects.exists()


def test_a_delivery_naming_too_many_different_apps_is_refused(client, app):
    reports = [
        calls_report(
            [{"app": f"app-{r}-{i}", "requests": 1} for i in range(100)],
            day=date.today() - timedelta(days=r),
        )
        for r in range(6)
    ]
    response = post(client, body_of(reports=reports))
    assert response.status_code == 400
    assert "at most 500 different apps" in response.json()["detail"]


def test_storing_calls_costs_the_same_queries_for_one_call_or_a_hundred(
    client, app, carol, field_ops
):
    for i in range(20):
        live_app(team=field_ops, owner=carol, slug=f"callee-{i}")
    today = date.today()

    def queries(msg_id, reports):
        body = body_of(reports=reports)
        with CaptureQueriesContext(connection) as ctx:
            assert post(client, body, msg_id).status_code == 202
        return len(ctx.captured_queries)

    # The first report reads the regions into the per-process cache; the others compare alike.
    queries("warm", [report(day=today - timedelta(days=10))])
    without_calls = queries("usage", [report(day=today - timedelta(days=9))])
    one = queries("one", [calls_report([{"app": "callee-0", "requests": 1}], day=today)])
    # 120 rows: one statement on PostgreSQL, and still one within SQLite's parameter limit.
    many = queries(
        "many",
        [
            calls_report(
                [{"app": f"callee-{i}", "requests": i + 1} for i in range(20)],
                day=today - timedelta(days=d),
                region=region,
            )
            for d in range(3)
            for region in ("eu-central", "us-east")
        ],
    )
    assert ObservedCall.objects.count() == 120
    assert many == one == without_calls + 2  # the callee lookup, the calls' upsert


# --- observed against declared ---------------------------------------------------------


def travel(moment):
    return time_machine.travel(moment, tick=False)


def test_a_call_the_app_does_not_declare_is_flagged_and_a_declared_one_is_not(
    client, app, billing, search
):
    app.depends_on.add(search)
    with travel(DAY0):
        send(
            client,
            [
                {"app": "billing-api", "requests": 1200, "errors": 12},
                {"app": "search", "requests": 5},
            ],
        )
        comparison = compare_app_calls(app=app)
    assert [(e.slug, e.requests, e.errors, e.declared) for e in comparison.observed] == [
        ("billing-api", 1200, 12, False),
        ("search", 5, 0, True),
    ]
    assert [e.slug for e in comparison.undeclared] == ["billing-api"]
    # One day of calls proves nothing about what is not called.
    assert comparison.unused == [] and not comparison.covers_window


def test_a_declared_app_not_called_is_flagged_only_once_calls_cover_a_whole_window(
    client, app, billing, search
):
    app.depends_on.add(billing, search)
    with travel(DAY0):
        send(client, [{"app": "billing-api", "requests": 10}, {"app": "search", "requests": 1}])
    day88 = DAY0 + timedelta(days=88)
    with travel(day88):
        send(client, [{"app": "search", "requests": 1}])
        assert compare_app_calls(app=app).unused == []  # 89 days of calls so far
    with travel(day88 + timedelta(days=1)):
        # A whole window of calls, the first day of which had billing-api's.
        assert compare_app_calls(app=app).unused == []
    with travel(day88 + timedelta(days=2)):
        comparison = compare_app_calls(app=app)
    assert comparison.covers_window
    assert [(u.slug, u.last_called) for u in comparison.unused] == [("billing-api", DAY0.date())]
    # Ninety days after the last reported call the app is no longer reporting calls: its
    # silence says nothing, so nothing is flagged.
    with travel(day88 + timedelta(days=90)):
        comparison = compare_app_calls(app=app)
    assert comparison.unused == [] and comparison.observed == []


def test_an_app_that_never_reports_calls_is_never_told_its_dependencies_look_unused(
    client, app, billing, alice
):
    app.depends_on.add(billing)
    for offset in (0, 45, 100):
        with travel(DAY0 + timedelta(days=offset)):
            assert post(client, body_of(reports=[report()]), f"m{offset}").status_code == 202
    with travel(DAY0 + timedelta(days=100)):
        comparison = compare_app_calls(app=app)
        client.force_login(alice)
        page = client.get(app.get_absolute_url()).content.decode()
    assert comparison.unused == [] and comparison.watched_since is None
    assert 'id="panel-observed-calls"' not in page


def test_calls_to_an_app_retired_since_are_not_suggested_for_declaring(client, app, billing, alice):
    with travel(DAY0):
        send(client, [{"app": "billing-api", "requests": 10}])
    MicroApp.objects.filter(pk=billing.pk).update(state=AppState.RETIRED)
    with travel(DAY0 + timedelta(days=1)):
        assert compare_app_calls(app=app).undeclared == []


# --- the app page's panel and "Declare it" ---------------------------------------------


def test_the_owner_sees_an_undeclared_call_and_declares_it_in_one_click(
    client, app, billing, search, alice
):
    app.depends_on.add(search)
    with travel(DAY0):
        send(
            client,
            [
                {"app": "billing-api", "requests": 1200, "errors": 3},
                {"app": "search", "requests": 4},
            ],
        )
        client.force_login(alice)
        page = client.get(app.get_absolute_url()).content.decode()
        assert 'id="panel-observed-calls"' in page
        assert "calls billing-api but does not declare it" in page
        declare = f"/apps/{app.slug}/observed-calls/billing-api/declare/"
        assert f'action="{declare}"' in page
        response = client.post(declare)
        assert response.status_code == 302
        assert response["Location"].endswith("#panel-observed-calls")
        page = client.get(response["Location"]).content.decode()
    assert set(app.depends_on.values_list("slug", flat=True)) == {"billing-api", "search"}
    event = AuditEvent.objects.filter(app=app, action="updated").get()
    assert event.actor == alice
    assert event.changes["depends_on"][1] == sorted(["billing-api", "search"])
    assert "now declares Billing API as a dependency" in page
    assert "does not declare it" not in page


def test_declaring_is_for_who_may_edit_the_app_and_only_for_an_undeclared_observed_call(
    client, app, billing, search, carol, bob
):
    with travel(DAY0):
        send(client, [{"app": "billing-api", "requests": 12}])
        declare = f"/apps/{app.slug}/observed-calls/billing-api/declare/"
        client.force_login(carol)  # another team: sees the panel, not the button
        page = client.get(app.get_absolute_url()).content.decode()
        assert "calls billing-api but does not declare it" in page
        assert f'action="{declare}"' not in page
        assert client.post(declare).status_code == 403
        assert client.get(declare).status_code == 405
        client.force_login(bob)  # same team
        assert client.post(declare).status_code == 302
        events = AuditEvent.objects.filter(app=app).count()
        again = client.post(declare, follow=True).content.decode()
        assert "ticket-router already declares billing-api." in again
        never = client.post(f"/apps/{app.slug}/observed-calls/search/declare/", follow=True)
    assert "has not been seen calling search in the last 90 days." in never.content.decode()
    assert AuditEvent.objects.filter(app=app).count() == events
    assert list(app.depends_on.values_list("slug", flat=True)) == ["billing-api"]


def test_the_panel_says_when_unused_dependencies_will_be_judged_and_then_lists_them(
    client, app, billing, search, alice
):
    app.depends_on.add(billing)
    client.force_login(alice)
    with travel(DAY0):
        send(client, [{"app": "search", "requests": 3}])
        page = client.get(app.get_absolute_url()).content.decode()
    assert "flagged once calls have been reported for 90 days, from 30 May 2026" in page
    with travel(DAY0 + timedelta(days=89)):
        send(client, [{"app": "search", "requests": 3}])
        page = client.get(app.get_absolute_url()).content.decode()
    assert "Declared but not called in 90 days" in page
    assert "has not called it in 90 days" in page


def test_the_app_page_costs_the_same_queries_whatever_the_number_of_observed_calls(
    client, app, alice, carol, field_ops
):
    callees = [live_app(team=field_ops, owner=carol, slug=f"callee-{i}") for i in range(12)]
    app.depends_on.add(*callees[6:])
    client.force_login(alice)

    def page_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(app.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    with travel(DAY0):
        send(client, [{"app": "callee-0", "requests": 1}], msg_id="a")
        page_queries()  # the fleet's cost curve is cached by the first page of the day
        few = page_queries()
        send(client, [{"app": f"callee-{i}", "requests": i + 1} for i in range(12)], msg_id="b")
        many = page_queries()
    assert many == few


# --- the cleanup report ------------------------------------------------------------------


def test_the_cleanup_report_lists_undeclared_calls_and_unused_dependencies(
    client, app, billing, search, api_as, pat
):
    app.depends_on.add(search)
    with travel(DAY0):
        send(client, [{"app": "search", "requests": 2}], msg_id="first")
    with travel(DAY0 + timedelta(days=95)):
        send(client, [{"app": "billing-api", "requests": 1200}], msg_id="later")
        data = api_as(pat).get("/api/v1/scorecards/cleanup/", {"quarter": "2026-Q2"}).json()
        csv_text = api_as(pat).get(
            "/api/v1/scorecards/cleanup/", {"quarter": "2026-Q2", "format": "csv"}
        )
        client.force_login(pat)
        page = client.get("/scorecards/cleanup/", {"quarter": "2026-Q2"}).content.decode()
    router = next(a for t in data["teams"] for a in t["apps"] if a["app"] == "ticket-router")
    issues = {i["issue"]: i for i in router["issues"]}
    assert issues["undeclared_calls"]["detail"] == (
        "calls billing-api without declaring it (1200 requests in 90 days)"
    )
    assert issues["undeclared_calls"]["label"] == "Calls it does not declare"
    assert issues["unused_dependencies"]["detail"] == (
        "declares search but has not called it in 90 days"
    )
    assert "ticket-router,Ticket Router" in csv_text.content.decode()
    assert "undeclared_calls" in csv_text.content.decode()
    assert "calls billing-api without declaring it" in page
    assert "Declared, not called" in page


def test_the_cleanup_report_costs_the_same_queries_for_one_app_with_findings_or_many(
    client, api_as, pat, alice, support_tools, carol, field_ops, regions
):
    callee = live_app(team=field_ops, owner=carol, slug="billing-api")

    def caller(index):
        made = live_app(
            team=support_tools, owner=alice, slug=f"caller-{index}", ingestion_secret=SECRET
        )
        body = body_of(made.slug, reports=[calls_report([{"app": "billing-api", "requests": 5}])])
        assert post(client, body, f"m{index}").status_code == 202
        return made

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = api_as(pat).get("/api/v1/scorecards/cleanup/")
            assert response.status_code == 200
        return len(ctx.captured_queries), response.json()

    caller(0)
    queries()  # the first request caches pat's groups on the user object
    one, _ = queries()
    for index in range(1, 8):
        caller(index)
    many, data = queries()
    flagged = [
        a["app"]
        for t in data["teams"]
        for a in t["apps"]
        if any(i["issue"] == "undeclared_calls" for i in a["issues"])
    ]
    assert len(flagged) == 8 and callee.slug not in flagged
    assert many == one


# --- the ops page's dependency picture ---------------------------------------------------


def ops_page(client, pat):
    client.force_login(pat)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/ops/")
        assert response.status_code == 200
    return response.content.decode(), len(ctx.captured_queries)


def test_the_ops_picture_draws_declared_confirmed_and_observed_only_edges_apart(
    client, app, billing, search, carol, field_ops, pat
):
    declared_only = live_app(team=field_ops, owner=carol, slug="declared-only")
    app.depends_on.add(search, declared_only)
    with travel(DAY0):
        send(client, [{"app": "billing-api", "requests": 9}, {"app": "search", "requests": 3}])
        html, _ = ops_page(client, pat)
    assert html.count('<path class="topo-edge topo-edge--confirmed"') == 1
    assert html.count('<path class="topo-edge topo-edge--declared"') == 1
    assert html.count('<path class="topo-edge topo-edge--observed"') == 1
    assert "<title>ticket-router → billing-api (observed)</title>" in html
    assert "<title>ticket-router → search (confirmed)</title>" in html
    assert "called but not declared (1)" in html
    assert "declared and called in the last 90 days (1)" in html
    # Calls older than the window no longer draw an edge.
    with travel(DAY0 + timedelta(days=90)):
        html, _ = ops_page(client, pat)
    assert '<path class="topo-edge topo-edge--observed"' not in html
    assert html.count('<path class="topo-edge topo-edge--declared"') == 2


def test_the_ops_picture_costs_the_same_queries_whatever_the_observed_calls(
    client, app, carol, field_ops, pat
):
    for i in range(15):
        live_app(team=field_ops, owner=carol, slug=f"callee-{i}")
    with travel(DAY0):
        send(client, [{"app": "callee-0", "requests": 1}], msg_id="a")
        ops_page(client, pat)
        _, few = ops_page(client, pat)
        send(client, [{"app": f"callee-{i}", "requests": 1} for i in range(15)], msg_id="b")
        html, many = ops_page(client, pat)
    assert html.count('<path class="topo-edge topo-edge--observed"') == 15
    assert many == few


# --- the policy warning ------------------------------------------------------------------

RULE = "declares-what-it-calls"


def rule_findings(data):
    return [f for f in data["policy_findings"] if f["rule"] == RULE]


def test_the_policy_warns_of_an_undeclared_call_and_declaring_it_clears_the_warning(
    client, app, billing, search, api_as, alice
):
    with travel(DAY0):
        send(client, [{"app": "billing-api", "requests": 1200}])
        api = api_as(alice)
        detail = api.get(f"/api/v1/apps/{app.slug}/").json()
        assert rule_findings(detail) == [
            {
                "rule": RULE,
                "severity": "warn",
                "field": "depends_on",
                "message": "Calls billing-api (1200 requests in 90 days) but does not declare it.",
            }
        ]
        response = api.patch(
            f"/api/v1/apps/{app.slug}/", {"depends_on": ["billing-api"]}, format="json"
        )
        assert response.status_code == 200, response.content
        # The answer judges the dependencies the change sets, not the ones it replaced.
        assert rule_findings(response.json()) == []
        assert rule_findings(api.get(f"/api/v1/apps/{app.slug}/").json()) == []
        rules = {r["id"]: r for r in api.get("/api/v1/policies/").json()}
    assert rules[RULE]["severity"] == "warn"


def test_the_policy_warns_of_a_declared_app_not_called_only_when_calls_cover_the_window(
    client, app, billing, search, api_as, alice
):
    app.depends_on.add(billing)
    with travel(DAY0):
        send(client, [{"app": "search", "requests": 3}], msg_id="a")
    with travel(DAY0 + timedelta(days=60)):
        send(client, [{"app": "search", "requests": 3}], msg_id="b")
        messages = [
            f["message"]
            for f in rule_findings(api_as(alice).get(f"/api/v1/apps/{app.slug}/").json())
        ]
        assert messages == ["Calls search (6 requests in 90 days) but does not declare it."]
    with travel(DAY0 + timedelta(days=95)):
        messages = [
            f["message"]
            for f in rule_findings(api_as(alice).get(f"/api/v1/apps/{app.slug}/").json())
        ]
    assert messages == [
        "Calls search (3 requests in 90 days) but does not declare it.",
        "Declares billing-api but has not called it in 90 days.",
    ]


def test_an_app_without_reported_calls_gets_no_such_warning(app, billing, api_as, alice):
    app.depends_on.add(billing)
    assert rule_findings(api_as(alice).get(f"/api/v1/apps/{app.slug}/").json()) == []


def test_the_policies_page_counts_the_apps_breaking_the_rule_in_fixed_queries(
    client, alice, support_tools, carol, field_ops, regions
):
    live_app(team=field_ops, owner=carol, slug="billing-api")

    def caller(index):
        made = live_app(
            team=support_tools, owner=alice, slug=f"caller-{index}", ingestion_secret=SECRET
        )
        body = body_of(made.slug, reports=[calls_report([{"app": "billing-api", "requests": 5}])])
        assert post(client, body, f"m{index}").status_code == 202

    def page():
        client.force_login(alice)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/policies/")
        counts = {row["rule"].id: len(row["apps"]) for row in response.context["rows"]}
        return counts[RULE], len(ctx.captured_queries), response.content.decode()

    caller(0)
    page()
    one, few, _ = page()
    for index in range(1, 6):
        caller(index)
    six, many, html = page()
    assert (one, six) == (1, 6)
    assert many == few
    assert RULE in html


# --- the API ----------------------------------------------------------------------------


def test_the_api_serves_the_comparison_to_whoever_sees_the_app(
    client, app, billing, search, api_as, carol, django_assert_max_num_queries
):
    app.depends_on.add(search)
    with travel(DAY0):
        send(client, [{"app": "billing-api", "requests": 1200, "errors": 3}], msg_id="a")
    with travel(DAY0 + timedelta(days=91)):
        send(client, [{"app": "billing-api", "requests": 10}], msg_id="b")
        api = api_as(carol)  # another team's app: readable like the app itself
        api.get(f"/api/v1/apps/{app.slug}/")  # caches carol's groups
        with django_assert_max_num_queries(4):  # the user's teams, the app, the comparison
            response = api.get(f"/api/v1/apps/{app.slug}/observed-calls/")
    assert response.status_code == 200
    today = (DAY0 + timedelta(days=91)).date()
    assert response.json() == {
        "days": 90,
        "window_start": (today - timedelta(days=89)).isoformat(),
        "watched_since": DAY0.date().isoformat(),
        "judges_unused": True,
        "calls": [
            {
                "app": "billing-api",
                "name": "Billing API",
                "requests": 10,
                "errors": 0,
                "last_called": today.isoformat(),
                "declared": False,
            }
        ],
        "undeclared": [
            {
                "app": "billing-api",
                "name": "Billing API",
                "requests": 10,
                "errors": 0,
                "last_called": today.isoformat(),
                "declared": False,
            }
        ],
        "unused": [{"app": "search", "name": "Search", "last_called": None}],
    }
    assert api_as(carol).get("/api/v1/apps/no-such-app/observed-calls/").status_code == 404


# --- the demo --------------------------------------------------------------------------


def test_the_demo_reports_declared_and_undeclared_calls_and_a_rerun_adds_none():
    call_command("load_demo", stdout=io.StringIO())
    rows = ObservedCall.objects.count()
    router = MicroApp.objects.get(slug="ticket-router")
    comparison = compare_app_calls(app=router)
    assert {(e.slug, e.declared) for e in comparison.observed} == {
        ("crm-sync", True),
        ("sla-monitor", False),
    }
    call_command("load_demo", stdout=io.StringIO())
    assert rows > 0 and ObservedCall.objects.count() == rows


# --- the admin ---------------------------------------------------------------------------


def test_the_platform_team_reads_observed_calls_in_the_admin_and_cannot_change_them(
    client, app, billing, pat
):
    send(client, [{"app": "billing-api", "requests": 5}])
    assert (
        Group.objects.get(name=PLATFORM_GROUP)
        .permissions.filter(codename="view_observedcall")
        .exists()
    )
    pat.is_staff = True
    pat.save()
    client.force_login(pat)
    listing = client.get("/admin/lifecycle/observedcall/", {"q": "billing"})
    assert listing.status_code == 200 and "Billing API" in listing.content.decode()
    row = ObservedCall.objects.get()
    assert client.get(f"/admin/lifecycle/observedcall/{row.pk}/delete/").status_code == 403
    assert client.get("/admin/lifecycle/observedcall/add/").status_code == 403
