"""Scorecards, team roll-ups, rubric and the cleanup report over the API."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from scorecards import services
from scorecards.periods import parse_quarter
from tests.factories import MicroAppFactory, TeamFactory
from tests.scorecards.conftest import NOW
from tests.scorecards.factories import add_contract, add_usage, documented_app

pytestmark = pytest.mark.django_db
LIST = "/api/v1/scorecards/"
Q3_END = parse_quarter("2026-Q3").end_dt


@pytest.fixture
def scored(frozen, regions, alice, carol, support_tools, field_ops):
    """Q3 scored: an A app and an F app for support tools, a draft and a C for field ops."""
    good = documented_app(
        slug="good", team=support_tools, owner=alice, last_seen_at=Q3_END - timedelta(hours=1)
    )
    add_contract(good)
    add_usage(good, regions["eu-central"], date(2026, 7, 1), 92, requests=10_000, cost="1")
    MicroAppFactory(
        slug="bad", team=support_tools, owner=alice, description="", docs_url="", runbook_url=""
    )
    mid = documented_app(slug="mid", team=field_ops, owner=carol, last_seen_at=NOW, state="active")
    add_usage(mid, regions["eu-central"], date(2026, 7, 1), 46, requests=10, cost="5")
    MicroAppFactory(slug="secret", team=field_ops, owner=carol, state="draft")
    services.scorecards_compute(quarter=parse_quarter("2026-Q3"))
    services.scorecards_compute(quarter=parse_quarter("2026-Q2"))
    return {"good": good, "mid": mid}


def test_list_defaults_to_the_latest_quarter_and_hides_other_teams_drafts(api_as, alice, scored):
    response = api_as(alice).get(LIST)
    assert response.status_code == 200
    data = response.json()
    assert {c["app"] for c in data["results"]} == {"good", "bad", "mid"}
    assert {c["quarter"] for c in data["results"]} == {"2026-Q3"}
    good = next(c for c in data["results"] if c["app"] == "good")
    assert good["grade"] == "A"
    assert good["overall"] == "100.0"
    assert good["scores"] == {
        "documentation": 100,
        "telemetry": 100,
        "cost": 100,
        "responsiveness": 100,
    }
    assert good["team"] == "support-tools"
    bad = next(c for c in data["results"] if c["app"] == "bad")
    assert "no runbook URL" in bad["reasons"]["documentation"]
    assert bad["grade"] == "F"


def test_list_filters(api_as, pat, scored):
    client = api_as(pat)
    by_team = client.get(LIST, {"quarter": "2026-Q3", "team": "field-ops"}).json()
    assert {c["app"] for c in by_team["results"]} == {"mid", "secret"}
    by_grade = client.get(LIST, {"quarter": "2026-Q3", "grade": ["A", "F"]}).json()
    assert {c["grade"] for c in by_grade["results"]} == {"A", "F"}
    by_app = client.get(LIST, {"quarter": "2026-Q2", "app": "good"}).json()
    assert [(c["app"], c["quarter"]) for c in by_app["results"]] == [("good", "2026-Q2")]
    assert client.get(LIST, {"quarter": "2025-Q1"}).json()["count"] == 0


@pytest.mark.parametrize(
    "query",
    [
        {"quarter": "2026-Q7"},
        {"quarter": ""},
        {"grade": "Z"},
        # Only the documented pattern: ASCII digits, no spaces, no trailing newline.
        {"quarter": "1\u0660\u0663\u0669-Q1"},
        {"quarter": " 2026-Q3"},
        {"quarter": "2026-Q3\n"},
        {"quarter": ["2026-Q3", "2026-Q2"]},
    ],
)
def test_list_rejects_bad_filters(api_as, pat, scored, query):
    response = api_as(pat).get(LIST, query)
    assert response.status_code == 400


def test_list_rejects_a_repeated_page(api_as, pat, scored):
    assert api_as(pat).get(f"{LIST}?page=1&page=2").status_code == 400


def test_an_unknown_team_matches_nothing(api_as, pat, scored):
    assert api_as(pat).get(LIST, {"team": "nope"}).json()["count"] == 0
    both = api_as(pat).get(LIST, {"quarter": "2026-Q3", "team": "field-ops,support-tools"})
    assert both.json()["count"] == 4


def test_team_rollups(api_as, pat, scored):
    data = api_as(pat).get("/api/v1/scorecards/teams/", {"quarter": "2026-Q3"}).json()
    assert data["quarter"] == "2026-Q3"
    teams = {t["team"]: t for t in data["teams"]}
    assert teams["support-tools"]["apps"] == 2
    assert teams["support-tools"]["grades"] == {"A": 1, "B": 0, "C": 0, "D": 0, "F": 1}
    assert sum(data["grades"].values()) == 4
    averages = [t["average"] for t in data["teams"]]
    assert averages == sorted(averages, key=float, reverse=True)
    for bad in ("bad", ""):
        assert api_as(pat).get("/api/v1/scorecards/teams/", {"quarter": bad}).status_code == 400


def test_rubric_is_published(api_as, alice):
    data = api_as(alice).get("/api/v1/scorecards/rubric/").json()
    assert [d["key"] for d in data["dimensions"]] == [
        "documentation",
        "telemetry",
        "cost",
        "responsiveness",
    ]
    assert sum(d["weight"] for d in data["dimensions"]) == 100
    assert data["grades"][0] == {"grade": "A", "min_score": 90}
    assert data["grades"][-1] == {"grade": "F", "min_score": 0}
    assert "expiry_reminder" in data["notice_kinds"]


def test_cleanup_report_groups_findings_by_team_with_actions(api_as, pat, scored, settings):
    data = api_as(pat).get("/api/v1/scorecards/cleanup/", {"quarter": "2026-Q3"}).json()
    teams = {t["team"]: t for t in data["teams"]}
    assert set(teams) == {"support-tools", "field-ops"}
    bad = next(a for a in teams["support-tools"]["apps"] if a["app"] == "bad")
    issues = {i["issue"]: i for i in bad["issues"]}
    assert set(issues) == {"low_grade", "low_usage", "no_contract", "stale_telemetry"}
    assert issues["low_grade"]["detail"].startswith("graded F (")
    assert issues["low_grade"]["action"].startswith("Improve ")
    assert issues["no_contract"]["action"] == "Upload a valid OpenAPI or GraphQL contract."
    assert "good" not in {a["app"] for a in teams["support-tools"]["apps"]}


def test_cleanup_csv(api_as, pat, scored):
    response = api_as(pat).get(
        "/api/v1/scorecards/cleanup/", {"quarter": "2026-Q3", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "team",
        "app",
        "name",
        "owner",
        "state",
        "grade",
        "overall",
        "requests",
        "issue",
        "detail",
        "action",
    ]
    assert ("support-tools", "bad", "no_contract") in {(r[0], r[1], r[8]) for r in rows[1:]}


def test_cleanup_is_for_signed_in_users_only(api):
    assert api.get("/api/v1/scorecards/cleanup/").status_code == 401


def _grow(size: int, regions, frozen_quarter="2026-Q3"):
    for i in range(size):
        team = TeamFactory()
        app = MicroAppFactory(team=team, last_seen_at=NOW - timedelta(days=i))
        add_usage(app, regions["eu-central"], date(2026, 7, 1), 2, requests=i)
    services.scorecards_compute(quarter=parse_quarter(frozen_quarter))


@pytest.mark.parametrize(
    "url",
    [
        LIST + "?quarter=2026-Q3",
        LIST,
        "/api/v1/scorecards/teams/?quarter=2026-Q3",
        "/api/v1/scorecards/cleanup/?quarter=2026-Q3",
        "/api/v1/scorecards/cleanup/?quarter=2026-Q3&format=csv",
    ],
)
def test_query_budgets_do_not_grow_with_the_fleet(
    frozen, api_as, alice, regions, django_assert_max_num_queries, url
):
    client = api_as(alice)
    for size in (3, 30):
        _grow(size, regions)
        with django_assert_max_num_queries(8):
            assert client.get(url).status_code == 200
