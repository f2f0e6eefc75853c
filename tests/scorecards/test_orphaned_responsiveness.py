"""Owner responsiveness (rubric v3): an app orphaned at the quarter's end scores 0, since
nobody is left to answer it; read as of the quarter's end, so a rerun after a new owner
took it over scores the closed quarter the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from catalog.choices import AppState
from catalog.transfers import transfer
from identity import people
from identity.models import DeactivatedVia
from scorecards import services
from scorecards.fixes import fixes_for
from scorecards.models import Scorecard
from scorecards.periods import parse_quarter
from scorecards.rubric import get_rubric
from scorecards.scoring import score_one
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db

Q3 = parse_quarter("2026-Q3")
Q4 = parse_quarter("2026-Q4")
LEFT = datetime(2026, 8, 10, 9, 0, tzinfo=UTC)
Q3_SCORED = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
NEW_OWNER = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
LATER = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
REASON = "no owner: its owner left and nobody took it over; the platform team assigns one"


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def leaver_app(support_tools):
    leaver = UserFactory(username="leaver")
    app = MicroAppFactory(owner=leaver, team=support_tools, slug="lonely", state=AppState.ACTIVE)
    MicroAppFactory(owner=UserFactory(username="stays"), team=support_tools, slug="kept")
    with at(LEFT):
        people.deactivate(leaver, actor=None, via=DeactivatedVia.SCIM)
    app.refresh_from_db()
    assert app.orphaned_at is not None
    return app


def test_the_rubric_says_so_and_is_version_3():
    rubric = get_rubric()
    assert rubric.version == 3
    assert "orphaned" in rubric.dimension("responsiveness").description


def test_an_orphaned_app_scores_0_for_responsiveness_and_it_is_a_fix(leaver_app, pat):
    with at(Q3_SCORED):
        services.scorecards_compute(quarter=Q3)
    card = Scorecard.objects.get(app=leaver_app, quarter="2026-Q3")
    assert card.responsiveness == 0
    assert card.reasons["responsiveness"] == [REASON]
    assert card.metrics["responsiveness"]["orphaned"] is True
    assert card.rubric_version == 3
    other = Scorecard.objects.get(app__slug="kept", quarter="2026-Q3")
    assert other.responsiveness == 100 and "orphaned" not in other.metrics["responsiveness"]
    fixes = fixes_for(card.scores, card.reasons, card.weights)
    assert any(f.text == REASON for f in fixes)


def test_a_new_owner_does_not_rewrite_the_closed_quarter(leaver_app, pat, bob):
    with at(Q3_SCORED):
        services.scorecards_compute(quarter=Q3)
    with at(NEW_OWNER):
        transfer(actor=pat, to=bob, apps=["lonely"], reason="Bob looks after it now")
    with at(LATER):
        services.scorecards_compute(quarter=Q3)
        services.scorecards_compute(quarter=Q4)
    q3 = Scorecard.objects.get(app=leaver_app, quarter="2026-Q3")
    assert q3.responsiveness == 0 and q3.reasons["responsiveness"] == [REASON]
    q4 = Scorecard.objects.get(app=leaver_app, quarter="2026-Q4")
    assert q4.responsiveness == 100


def test_the_live_score_counts_an_orphaned_app_as_unanswered(leaver_app):
    with at(datetime(2026, 9, 1, tzinfo=UTC)):
        live = score_one(leaver_app, Q3)
    assert live.scores["responsiveness"] == 0
    with at(datetime(2026, 8, 1, tzinfo=UTC)):  # before the owner left
        assert score_one(leaver_app, Q3).scores["responsiveness"] == 100


def test_scoring_stays_query_flat_with_orphaned_apps(
    leaver_app, support_tools, django_assert_max_num_queries
):
    with at(Q3_SCORED), django_assert_max_num_queries(30) as few:
        services.scorecards_compute(quarter=Q3)
    for index in range(10):
        gone = UserFactory(username=f"gone-{index}")
        MicroAppFactory(owner=gone, team=support_tools, state=AppState.ACTIVE)
        with at(LEFT):
            people.deactivate(gone, actor=None, via=DeactivatedVia.SCIM)
    with at(Q3_SCORED), django_assert_max_num_queries(len(few.captured_queries)):
        services.scorecards_compute(quarter=Q3)


def test_the_cleanup_report_lists_an_orphaned_app_first(leaver_app, pat):
    from scorecards.cleanup import cleanup_report

    with at(datetime(2026, 9, 1, tzinfo=UTC)):
        groups = cleanup_report(user=pat, quarter=Q3)
    lonely = next(a for g in groups for a in g["apps"] if a["app"] == "lonely")
    first = lonely["issues"][0]
    assert first["issue"] == "orphaned" and first["label"] == "No owner"
    assert first["detail"] == "leaver left on 10 Aug 2026 and nobody took the app over"
