"""Dependency health: an app that still calls a retired app loses documentation points,
with a reason that is the first thing to fix, for the quarters in which it did so; a
closed quarter recomputed after the dependency is gone scores the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from catalog import services as catalog_services
from catalog.models import MicroApp
from scorecards import services
from scorecards.fixes import fixes_for
from scorecards.models import Scorecard
from scorecards.periods import parse_quarter
from scorecards.rubric import get_rubric
from scorecards.scoring import score_one
from tests.scorecards.factories import add_contract, documented_app

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registered_when_created")]
Q2 = parse_quarter("2026-Q2")
Q3 = parse_quarter("2026-Q3")
APRIL = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
RETIRED = datetime(2026, 5, 10, 15, 0, tzinfo=UTC)
Q2_SCORED = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
REMOVED = datetime(2026, 7, 6, 10, 0, tzinfo=UTC)
Q3_SCORED = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
A_YEAR_LATER = datetime(2027, 7, 20, 12, 0, tzinfo=UTC)
REASON = (
    "dependency health: calls Legacy Ledger, retired on 10 May 2026; remove or replace the "
    "dependency"
)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def apps(alice, support_tools) -> dict[str, MicroApp]:
    with at(APRIL):
        ledger = documented_app(
            name="Legacy Ledger", slug="ledger", team=support_tools, owner=alice, state="active"
        )
        crm = documented_app(slug="crm", team=support_tools, owner=alice, state="active")
        crm.depends_on.add(ledger)
        for app in (ledger, crm):
            add_contract(app, at=APRIL)
    return {"ledger": ledger, "crm": crm}


def card(slug: str, quarter: str) -> Scorecard:
    return Scorecard.objects.get(app__slug=slug, quarter=quarter)


def test_calling_a_retired_app_costs_points_for_the_quarters_it_did_so(apps, alice):
    with at(RETIRED):
        catalog_services.app_retire(
            app=apps["ledger"], actor=alice, reason="Replaced.", confirm_dependents=["crm"]
        )
    with at(Q2_SCORED):
        services.scorecards_compute(quarter=Q2)
    q2 = card("crm", "2026-Q2")
    assert q2.documentation == 80
    assert q2.reasons["documentation"] == [REASON]
    assert q2.metrics["documentation"]["retired_dependencies"] == ["Legacy Ledger"]
    assert q2.rubric_version >= 2
    # The retired app itself is scored as before: it calls nothing.
    assert card("ledger", "2026-Q2").documentation == 100

    # It is on the "to fix" list, first of its dimension's fixes.
    fixes = fixes_for(q2.scores, q2.reasons, q2.weights)
    assert next(f for f in fixes if f.dimension == "documentation").text == REASON

    # The owner removes the dependency after the quarter: the next quarter is clean...
    with at(REMOVED):
        catalog_services.app_update(app=apps["crm"], actor=alice, data={"depends_on": []})
    with at(Q3_SCORED):
        services.scorecards_compute(quarter=Q3)
    assert card("crm", "2026-Q3").documentation == 100
    assert card("crm", "2026-Q3").reasons["documentation"] == []

    # ...and the closed quarter, recomputed a year later, is what was true inside it.
    with at(A_YEAR_LATER):
        services.scorecards_compute(quarter=Q2)
    again = card("crm", "2026-Q2")
    assert (again.documentation, again.reasons, again.overall) == (
        q2.documentation,
        q2.reasons,
        q2.overall,
    )


def test_a_retirement_after_the_quarter_ended_does_not_reach_back(apps, alice):
    with at(Q2_SCORED):
        catalog_services.app_retire(
            app=apps["ledger"], actor=alice, reason="Replaced.", confirm_dependents=["crm"]
        )
        services.scorecards_compute(quarter=Q2)
    assert card("crm", "2026-Q2").documentation == 100


def test_a_dependency_added_after_the_quarter_does_not_reach_back(apps, alice, support_tools):
    with at(APRIL):
        other = documented_app(slug="other", team=support_tools, owner=alice, state="active")
        add_contract(other, at=APRIL)
    with at(RETIRED):
        catalog_services.app_retire(
            app=apps["ledger"], actor=alice, reason="Replaced.", confirm_dependents=["crm"]
        )
    with at(REMOVED):
        catalog_services.app_update(app=other, actor=alice, data={"depends_on": [apps["ledger"]]})
    with at(A_YEAR_LATER):
        services.scorecards_compute(quarter=Q2)
    assert card("other", "2026-Q2").documentation == 100
    assert card("crm", "2026-Q2").documentation == 80


def test_the_penalty_is_per_retired_app_and_never_below_zero(alice, support_tools):
    with at(APRIL):
        caller = MicroApp.objects.get(
            pk=documented_app(
                slug="caller", team=support_tools, owner=alice, state="active", docs_url=""
            ).pk
        )
        for i in range(4):
            gone = documented_app(slug=f"gone-{i}", team=support_tools, owner=alice)
            caller.depends_on.add(gone)
    with at(RETIRED):
        for gone in MicroApp.objects.filter(slug__startswith="gone-"):
            catalog_services.app_retire(
                app=gone, actor=alice, reason="Gone.", confirm_dependents=["caller"]
            )
    with at(REMOVED.replace(month=6)):
        live = score_one(caller, Q2, rubric=get_rubric())
    # 40 points (a description and a runbook; no contract, no docs link) less 4 × 20,
    # floored at 0.
    assert live.scores["documentation"] == 0
    assert sum(r.startswith("dependency health") for r in live.reasons["documentation"]) == 4
