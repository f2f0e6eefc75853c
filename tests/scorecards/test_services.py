"""Storing a quarter's scorecards: one per app, reruns replace, constant query count."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scorecards import services
from scorecards.models import Scorecard
from scorecards.periods import parse_quarter
from scorecards.tasks import compute_quarterly_scorecards
from tests.factories import MicroAppFactory, TeamFactory, UserFactory
from tests.scorecards.conftest import NOW
from tests.scorecards.factories import add_action, add_contract, add_notice, add_usage

pytestmark = pytest.mark.django_db
Q3 = parse_quarter("2026-Q3")


def fleet(size: int, regions) -> None:
    """``size`` apps with contracts, usage, notices and owner actions: every input in play."""
    team = TeamFactory()
    member = UserFactory()
    team.members.add(member)
    for i in range(size):
        app = MicroAppFactory(team=team, last_seen_at=NOW - timedelta(hours=i))
        add_contract(app, valid=i % 2 == 0)
        add_usage(app, regions["eu-central"], date(2026, 7, 1), 3, requests=100 * (i + 1))
        sent = NOW - timedelta(days=10)
        add_notice(app, sent)
        add_action(app, member, sent + timedelta(hours=i))


def test_compute_stores_one_scorecard_per_live_app(frozen, regions):
    fleet(3, regions)
    MicroAppFactory(slug="gone", state="retired", retired_at=NOW - timedelta(days=200))
    result = services.scorecards_compute(quarter=Q3)
    assert result.scored == 3
    cards = Scorecard.objects.filter(quarter="2026-Q3")
    assert cards.count() == 3
    card = cards.first()
    assert (card.period_start, card.period_end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert card.weights["documentation"] == 30
    assert set(card.reasons) == {"documentation", "telemetry", "cost", "responsiveness"}
    assert not Scorecard.objects.filter(app__slug="gone").exists()


def test_rerunning_a_quarter_replaces_its_rows(frozen, regions):
    app = MicroAppFactory(slug="rerun", runbook_url="")
    services.scorecards_compute(quarter=Q3)
    first = Scorecard.objects.get(app=app, quarter="2026-Q3")
    assert "no runbook URL" in first.reasons["documentation"]
    app.runbook_url = "https://runbooks.example.com/rerun"
    app.save()
    services.scorecards_compute(quarter=Q3)
    services.scorecards_compute(quarter=Q3)
    cards = Scorecard.objects.filter(app=app)
    assert cards.count() == 1
    assert cards.get().pk == first.pk
    assert cards.get().documentation == first.documentation + 20
    # Another quarter is a separate row, and an app retired before the quarter began
    # is removed from a rerun of that quarter (it stays on the quarter it retired in).
    services.scorecards_compute(quarter=parse_quarter("2026-Q2"))
    assert cards.count() == 2
    app.state, app.retired_at = "retired", Q3.start_dt - timedelta(days=10)
    app.save()
    result = services.scorecards_compute(quarter=Q3)
    assert result.removed == 1
    assert list(cards.values_list("quarter", flat=True)) == ["2026-Q2"]


def _count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("runner", ["service", "task"])
def test_computation_query_count_does_not_grow_with_the_fleet(frozen, regions, runner):
    def run():
        if runner == "service":
            services.scorecards_compute(quarter=Q3)
        else:
            compute_quarterly_scorecards.delay("2026-Q3")

    fleet(4, regions)
    small = _count_queries(run)
    fleet(40, regions)
    large = _count_queries(run)
    assert Scorecard.objects.count() == 44
    assert large == small
    assert small <= 16


def test_task_defaults_to_the_quarter_that_just_ended(frozen):
    MicroAppFactory()
    result = compute_quarterly_scorecards()
    assert result["quarter"] == "2026-Q3"
    assert Scorecard.objects.filter(quarter="2026-Q3").count() == 1


def test_command_reports_progress(frozen):
    for _ in range(3):
        MicroAppFactory()
    out = StringIO()
    call_command("compute_scorecards", "--quarter", "2026-Q2", stdout=out)
    text = out.getvalue()
    assert "Scoring 2026-Q2" in text
    assert "3/3 apps scored" in text
    assert Scorecard.objects.filter(quarter="2026-Q2").count() == 3


def test_command_rejects_a_bad_quarter():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="2026-Q4"):
        call_command("compute_scorecards", "--quarter", "2026-Q9")
