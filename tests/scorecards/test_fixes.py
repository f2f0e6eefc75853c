"""The "to fix" list: only what loses points, the costliest first."""

from __future__ import annotations

from decimal import Decimal

from scorecards.fixes import fixes_for

WEIGHTS = {"documentation": 30, "telemetry": 30, "cost": 20, "responsiveness": 20}


def texts(fixes) -> list[str]:
    return [f.text for f in fixes]


def test_a_cost_cheaper_than_most_of_the_fleet_is_not_a_fix():
    # A scorecard stored before strengths stopped being written as reasons still says so.
    fixes = fixes_for(
        {"documentation": 100, "telemetry": 100, "cost": 50, "responsiveness": 100},
        {"cost": ["2 EUR per 1k requests: cheaper than 50% of the fleet"]},
        WEIGHTS,
    )
    assert fixes == []


def test_a_cost_dearer_than_most_of_the_fleet_is_a_fix():
    fixes = fixes_for(
        {"documentation": 100, "telemetry": 100, "cost": 20, "responsiveness": 100},
        {"cost": ["9 EUR per 1k requests: dearer than 80% of the fleet"]},
        WEIGHTS,
    )
    assert texts(fixes) == ["9 EUR per 1k requests: dearer than 80% of the fleet"]
    assert fixes[0].label == "Cost efficiency"
    assert fixes[0].points_lost == Decimal(16)  # 20 % of the weight × 80 missing points


def test_fixes_come_costliest_first_and_keep_their_order_within_a_dimension():
    fixes = fixes_for(
        {"documentation": 50, "telemetry": 0, "cost": 0, "responsiveness": 75},
        {
            "documentation": ["no docs URL", "no runbook URL"],
            "telemetry": ["telemetry on 0 of 92 days", "no heartbeat ever received"],
            "cost": ["no usage reported"],
            "responsiveness": ["median response 50 hours over 3 notices"],
        },
        WEIGHTS,
    )
    assert texts(fixes) == [
        "telemetry on 0 of 92 days",  # 30 points lost
        "no heartbeat ever received",
        "no usage reported",  # 20
        "no docs URL",  # 15
        "no runbook URL",
        "median response 50 hours over 3 notices",  # 5
    ]


def test_a_full_score_has_nothing_to_fix_and_missing_weights_do_not_divide_by_zero():
    assert fixes_for({"documentation": 100}, {"documentation": ["stale note"]}, WEIGHTS) == []
    assert texts(fixes_for({"telemetry": 10}, {"telemetry": ["gap"]}, {})) == ["gap"]
