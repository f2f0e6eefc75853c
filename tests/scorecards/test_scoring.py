"""Every dimension's score and its reasons, the weighting and the grade boundaries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from scorecards.periods import parse_quarter
from scorecards.rubric import DEFAULT_RUBRIC, get_rubric
from scorecards.scoring import score_fleet, score_one
from tests.factories import MicroAppFactory, UserFactory
from tests.scorecards.conftest import NOW
from tests.scorecards.factories import (
    add_action,
    add_contract,
    add_notice,
    add_usage,
    documented_app,
)

pytestmark = pytest.mark.django_db
Q3 = parse_quarter("2026-Q3")
JUL1 = date(2026, 7, 1)
END = Q3.end_dt  # a closed quarter is measured at its end, not at NOW


def scored(**kwargs):
    results, _ = score_fleet(Q3, now=NOW, **kwargs)
    return {r.app.slug: r for r in results}


# --- documentation -----------------------------------------------------------------------------


def test_documentation_full_marks_without_reasons(frozen):
    app = documented_app(slug="good")
    add_contract(app)
    result = scored()["good"]
    assert result.scores["documentation"] == 100
    assert result.reasons["documentation"] == []


def test_documentation_lists_everything_missing(frozen):
    MicroAppFactory(slug="bare", description="", docs_url="", runbook_url="")
    result = scored()["bare"]
    assert result.scores["documentation"] == 0
    assert result.reasons["documentation"] == [
        "no API contract",
        "no description",
        "no docs URL",
        "no runbook URL",
    ]


def test_documentation_uses_the_latest_contract_and_a_50_character_description(frozen):
    app = documented_app(slug="doc", description="x" * 49, runbook_url="")
    add_contract(app, valid=True, at=NOW - timedelta(days=30), version="1")
    add_contract(app, valid=False, at=NOW - timedelta(days=1), version="2")
    result = scored()["doc"]
    assert result.scores["documentation"] == 20  # docs URL only
    assert result.reasons["documentation"] == [
        "latest API contract is invalid",
        "description has 49 characters, fewer than 50",
        "no runbook URL",
    ]
    app.description = "x" * 50
    app.save()
    assert scored()["doc"].scores["documentation"] == 40


def test_a_contract_uploaded_after_the_quarter_does_not_count_for_it(frozen):
    app = documented_app(slug="late")
    add_contract(app, valid=True, at=Q3.end_dt + timedelta(minutes=5))
    assert scored()["late"].reasons["documentation"] == ["no API contract"]


# --- telemetry ---------------------------------------------------------------------------------


def test_telemetry_is_pro_rata_coverage_plus_a_fresh_heartbeat(frozen, regions):
    app = documented_app(slug="tele", last_seen_at=END - timedelta(hours=2))
    add_usage(app, regions["eu-central"], JUL1, 12)
    add_usage(app, regions["us-east"], JUL1, 12)  # a second region on the same days
    result = scored()["tele"]
    assert result.scores["telemetry"] == 10 + 20  # round(80 * 12 / 92) + heartbeat
    assert result.reasons["telemetry"] == ["telemetry on 12 of 92 days"]
    assert result.metrics["telemetry"]["days_with_reports"] == 12


def test_telemetry_without_a_recent_heartbeat(frozen, regions):
    app = documented_app(slug="stale", last_seen_at=END - timedelta(hours=25))
    add_usage(app, regions["eu-central"], JUL1, 92)
    result = scored()["stale"]
    assert result.scores["telemetry"] == 80
    assert result.reasons["telemetry"] == [
        "no heartbeat in the last 24 hours (last seen 29 Sep 2026, 23:00 UTC)"
    ]


def test_telemetry_never_reported(frozen):
    documented_app(slug="silent")
    result = scored()["silent"]
    assert result.scores["telemetry"] == 0
    assert result.reasons["telemetry"] == [
        "telemetry on 0 of 92 days",
        "no heartbeat ever received",
    ]


# --- cost --------------------------------------------------------------------------------------


def test_cost_is_a_percentile_of_the_fleet_and_no_usage_scores_lowest(frozen, regions, settings):
    settings.APPKEEPER_CURRENCY = "EUR"
    region = regions["eu-central"]
    for slug, cost in [("cheap", "1.0000"), ("mid", "2.0000"), ("dear", "3.0000")]:
        add_usage(documented_app(slug=slug), region, JUL1, 10, requests=1000, cost=cost)
    documented_app(slug="idle")
    add_usage(documented_app(slug="unmetered"), region, JUL1, 3, requests=0, cost="5.0000")
    results = scored()
    assert results["cheap"].scores["cost"] == 100
    assert results["cheap"].reasons["cost"] == []
    assert results["mid"].scores["cost"] == 50
    assert results["mid"].reasons["cost"] == []  # cheaper than half the fleet: nothing to fix
    assert results["dear"].scores["cost"] == 0
    assert results["dear"].reasons["cost"] == [
        "3 EUR per 1k requests: dearer than 100% of the fleet"
    ]
    assert results["idle"].scores["cost"] == 0
    assert results["idle"].reasons["cost"] == ["no usage reported"]
    assert results["unmetered"].reasons["cost"] == ["15.0000 EUR of cost but no requests reported"]
    assert results["mid"].metrics["cost"]["cost_per_1k_requests"] == "2.000000"


def test_cost_ties_share_the_percentile_and_a_lone_app_scores_full(frozen, regions):
    region = regions["eu-central"]
    add_usage(documented_app(slug="one"), region, JUL1, 1, requests=1000, cost="1")
    assert scored()["one"].scores["cost"] == 100
    add_usage(documented_app(slug="two"), region, JUL1, 1, requests=2000, cost="2")
    results = scored()
    assert results["one"].scores["cost"] == results["two"].scores["cost"] == 50


# --- responsiveness ----------------------------------------------------------------------------


def test_no_notices_is_full_responsiveness(frozen):
    documented_app(slug="calm")
    result = scored()["calm"]
    assert result.scores["responsiveness"] == 100
    assert result.metrics["responsiveness"]["notices"] == 0


def test_responsiveness_is_the_median_time_to_the_owners_or_teams_next_action(frozen, alice, bob):
    app = documented_app(slug="resp", owner=alice, team=alice.appkeeper_teams.get())
    sent = NOW - timedelta(days=20)
    add_notice(app, sent, kind="expiry_reminder")
    add_action(app, bob, sent + timedelta(hours=10))  # a team member answers in 10 h
    add_notice(app, sent + timedelta(days=2), kind="changes_requested")
    add_action(app, alice, sent + timedelta(days=2, hours=50))  # 50 h
    add_notice(app, sent + timedelta(days=5), kind="sunset_notice")
    add_action(app, alice, sent + timedelta(days=5, hours=100))  # 100 h
    result = scored()["resp"]
    assert result.metrics["responsiveness"] == {"notices": 3, "median_hours": 50.0, "unanswered": 0}
    assert result.scores["responsiveness"] == 75
    assert result.reasons["responsiveness"] == ["median response 50 hours over 3 notices"]


def test_strangers_other_kinds_and_other_recipients_do_not_count(frozen, alice, carol):
    app = documented_app(slug="ignored", owner=alice, team=alice.appkeeper_teams.get())
    sent = END - timedelta(hours=74)
    add_notice(app, sent - timedelta(days=10), kind="newsletter")
    add_notice(app, sent - timedelta(days=10), kind="expiry_reminder", recipient=carol)
    add_notice(app, sent, kind="expiry_reminder")
    add_action(app, carol, sent + timedelta(hours=1))  # not the owner's team
    add_action(app, None, sent + timedelta(hours=1))  # the system
    result = scored()["ignored"]
    assert result.metrics["responsiveness"] == {"notices": 1, "median_hours": 74.0, "unanswered": 1}
    assert result.scores["responsiveness"] == 50  # 74 h waited by the quarter's end
    assert result.reasons["responsiveness"] == [
        "median response 74 hours over 1 notice",
        "the notice is not answered yet",
    ]


def test_a_co_owner_from_another_team_answers_for_the_app(frozen, alice, carol):
    app = documented_app(slug="shared", owner=alice, team=alice.appkeeper_teams.get())
    app.co_owners.add(carol)
    sent = NOW - timedelta(days=20)
    add_notice(app, sent, kind="expiry_reminder")
    add_action(app, carol, sent + timedelta(hours=10))
    result = scored()["shared"]
    assert result.metrics["responsiveness"] == {"notices": 1, "median_hours": 10.0, "unanswered": 0}
    assert result.scores["responsiveness"] == 100


def test_slow_owners_score_zero_after_two_weeks(frozen):
    app = documented_app(slug="slow")
    sent = NOW - timedelta(days=60)
    add_notice(app, sent)
    add_action(app, app.owner, sent + timedelta(hours=400))
    assert scored()["slow"].scores["responsiveness"] == 0


# --- overall and grades ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overall", "grade"),
    [
        ("100", "A"),
        ("90.0", "A"),
        ("89.9", "B"),
        ("75.0", "B"),
        ("74.9", "C"),
        ("60.0", "C"),
        ("59.9", "D"),
        ("40.0", "D"),
        ("39.9", "F"),
        ("0", "F"),
    ],
)
def test_grade_boundaries(overall, grade):
    assert DEFAULT_RUBRIC.grade_for(Decimal(overall)) == grade


def test_overall_is_the_weighted_mean(frozen, regions):
    rubric = get_rubric()
    assert rubric.weights == {
        "documentation": 30,
        "telemetry": 25,
        "cost": 20,
        "responsiveness": 25,
    }
    only_documented = {"documentation": 100, "telemetry": 0, "cost": 0, "responsiveness": 0}
    assert rubric.overall(only_documented) == Decimal("30.0")
    app = documented_app(slug="best", last_seen_at=END - timedelta(hours=1))
    add_contract(app)
    add_usage(app, regions["eu-central"], JUL1, 92)
    result = scored()["best"]
    assert result.scores == {
        "documentation": 100,
        "telemetry": 100,
        "cost": 100,
        "responsiveness": 100,
    }
    assert (result.overall, result.grade) == (Decimal("100.0"), "A")


def test_weights_can_be_configured(frozen, settings):
    settings.APPKEEPER_SCORECARD_WEIGHTS = {"cost": 0}
    MicroAppFactory(slug="w", description="", docs_url="", runbook_url="")
    result = scored()["w"]
    # documentation 0, telemetry 0, cost 0 (weight 0), responsiveness 100 (weight 25 of 80)
    assert result.overall == Decimal("31.3")


def test_retired_apps_are_not_scored_unless_retired_after_the_quarter(frozen):
    MicroAppFactory(slug="gone", state="retired", retired_at=NOW - timedelta(days=200))
    MicroAppFactory(slug="lately", state="retired", retired_at=NOW - timedelta(hours=1))
    assert set(scored()) == {"lately"}


def test_live_score_counts_the_quarter_to_date(frozen, regions):
    frozen.move_to(NOW + timedelta(days=9, hours=12))  # 10 Oct, 14:00
    app = documented_app(slug="live", last_seen_at=NOW + timedelta(days=9))
    add_usage(app, regions["eu-central"], date(2026, 10, 1), 5)
    result = score_one(app, parse_quarter("2026-Q4"))
    assert result.reasons["telemetry"] == ["telemetry on 5 of 10 days"]
    assert result.scores["cost"] == 100
    assert UserFactory  # imported for symmetry with the other modules
