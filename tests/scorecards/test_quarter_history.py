"""A quarter's scorecard is what was true inside it: a rerun a year later changes nothing.

These tests keep the registration time the clock gives each app (``registered_when_created``)
and move the clock with time-machine through the year, as the fleet lives it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from catalog import services as catalog_services
from catalog.models import AuditEvent, MicroApp
from lifecycle.models import TelemetryDelivery
from lifecycle.services.telemetry import telemetry_prune, telemetry_store
from scorecards import services
from scorecards.models import Scorecard
from scorecards.periods import parse_quarter
from scorecards.scoring import score_fleet
from tests.factories import MicroAppFactory, TeamFactory, UserFactory
from tests.scorecards.factories import add_action, add_contract, add_notice, add_usage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registered_when_created")]
Q1 = parse_quarter("2026-Q1")
Q2 = parse_quarter("2026-Q2")
JAN5 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
Q1_SCORED = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)  # when beat scores the quarter
A_YEAR_LATER = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
DOCUMENTED = {
    "description": "Routes support tickets to the right queue by language and product.",
    "docs_url": "https://docs.example.com/app",
    "runbook_url": "https://runbooks.example.com/app",
}
STORED = (
    "app_id",
    "team_id",
    "period_start",
    "period_end",
    "documentation",
    "telemetry",
    "cost",
    "responsiveness",
    "overall",
    "grade",
    "reasons",
    "metrics",
)


def heartbeat(app: MicroApp, at: datetime) -> None:
    """An accepted telemetry delivery with no usage rows: only a sign of life."""
    telemetry_store(
        app_id=app.pk,
        webhook_id=f"msg_{at.timestamp():.0f}",
        body_sha256="0" * 64,
        rows=[],
        answer={},
        now=at,
    )


def stored(quarter: str) -> dict[str, dict]:
    rows = Scorecard.objects.filter(quarter=quarter).select_related("app")
    return {card.app.slug: {name: getattr(card, name) for name in STORED} for card in rows}


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def test_a_closed_quarter_recomputed_a_year_later_gives_the_same_rows(regions, alice, bob, carol):
    eu = regions["eu-central"]
    with at(JAN5):
        router = MicroAppFactory(
            slug="router",
            owner=alice,
            team=alice.appkeeper_teams.get(),
            state="active",
            **DOCUMENTED,
        )
        mailer = MicroAppFactory(
            slug="mailer",
            owner=carol,
            team=carol.appkeeper_teams.get(),
            state="active",
            **DOCUMENTED,
        )
        sunset = MicroAppFactory(slug="sunset", owner=alice, state="sunsetting", runbook_url="")
        add_contract(router, at=JAN5)
        add_usage(router, eu, Q1.start, 90, requests=5000, cost="2")
        add_usage(mailer, eu, Q1.start, 45, requests=100, cost="3")
        add_notice(mailer, datetime(2026, 3, 20, 9, 0, tzinfo=UTC))  # answered after the end
        add_notice(router, datetime(2026, 2, 2, 9, 0, tzinfo=UTC))
        add_action(router, bob, datetime(2026, 2, 3, 9, 0, tzinfo=UTC))  # 24 h
    with at(datetime(2026, 3, 20, 8, 0, tzinfo=UTC)):
        heartbeat(mailer, datetime(2026, 3, 20, 8, 0, tzinfo=UTC))
    with at(datetime(2026, 3, 31, 23, 0, tzinfo=UTC)):
        heartbeat(router, datetime(2026, 3, 31, 23, 0, tzinfo=UTC))
    with at(Q1.end_dt + timedelta(seconds=10)):  # 00:00:10 on 1 April
        MicroAppFactory(slug="april-fool", state="active", **DOCUMENTED)
    with at(Q1_SCORED):
        services.scorecards_compute(quarter=Q1)
    first = stored("2026-Q1")
    assert set(first) == {"router", "mailer", "sunset"}
    assert first["router"]["metrics"]["telemetry"]["heartbeat_fresh"] is True
    assert first["mailer"]["metrics"]["telemetry"]["heartbeat_fresh"] is False
    assert first["mailer"]["metrics"]["responsiveness"]["unanswered"] == 1

    # The rest of the year: everything a rerun used to pick up.
    with at(datetime(2026, 4, 2, 9, 0, tzinfo=UTC)):
        add_action(mailer, carol, datetime(2026, 4, 2, 9, 0, tzinfo=UTC))  # the late answer
        heartbeat(mailer, datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
        add_usage(mailer, eu, Q2.start, 60, requests=100_000, cost="1")
    with at(datetime(2026, 5, 10, 9, 0, tzinfo=UTC)):
        telemetry_prune()  # the deliveries of March are forgotten
        assert not TelemetryDelivery.objects.filter(received_at__lt=Q1.end_dt).exists()
        catalog_services.app_update(
            app=router, actor=alice, data={"description": "Short now.", "docs_url": ""}
        )
        newcomer, team = UserFactory(username="dave"), TeamFactory(slug="platform-tools")
        catalog_services.app_update(app=mailer, actor=carol, data={"owner": newcomer, "team": team})
        add_contract(router, valid=False, at=datetime(2026, 5, 10, 9, 0, tzinfo=UTC), version="2")
        catalog_services.app_update(
            app=sunset, actor=alice, data={"runbook_url": DOCUMENTED["runbook_url"]}
        )
    with at(datetime(2026, 10, 5, 9, 0, tzinfo=UTC)):
        for i in range(5):
            MicroAppFactory(slug=f"october-{i}", state="active", **DOCUMENTED)
        add_notice(router, datetime(2026, 10, 5, 9, 0, tzinfo=UTC))
    with at(datetime(2026, 11, 20, 9, 0, tzinfo=UTC)):
        catalog_services.app_retire(app=sunset, actor=alice, reason="Replaced by the router.")
        heartbeat(router, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))

    with at(A_YEAR_LATER):
        result = services.scorecards_compute(quarter=Q1)
    assert (result.scored, result.removed) == (3, 0)
    assert stored("2026-Q1") == first
    # Q2 is another quarter: the April app belongs there.
    with at(A_YEAR_LATER):
        services.scorecards_compute(quarter=Q2)
    assert "april-fool" in stored("2026-Q2")


def test_apps_live_at_some_moment_of_the_quarter_are_scored():
    end, start = Q1.end_dt, Q1.start_dt
    registered = {
        "just-in-time": end - timedelta(seconds=10),
        "too-late": end + timedelta(seconds=10),
        "retired-before": start - timedelta(days=400),
        "retired-during": start - timedelta(days=400),
        "retired-after": start - timedelta(days=400),
        "retired-on-the-first-second": start - timedelta(days=400),
    }
    retired = {
        "retired-before": start - timedelta(seconds=1),
        "retired-during": start + timedelta(days=40),
        "retired-after": end + timedelta(days=40),
        "retired-on-the-first-second": start,
    }
    for slug, moment in registered.items():
        with at(moment):
            app = MicroAppFactory(slug=slug, state="active")
        if slug in retired:
            MicroApp.objects.filter(pk=app.pk).update(state="retired", retired_at=retired[slug])
    with at(Q1_SCORED):
        results, _ = score_fleet(Q1)
    assert {r.app.slug for r in results} == {
        "just-in-time",
        "retired-during",
        "retired-after",
        "retired-on-the-first-second",
    }


def test_measures_are_taken_at_the_quarters_end(regions, alice, bob):
    """The same app scored in April and in December: nothing after 31 March counts."""
    with at(JAN5):
        app = MicroAppFactory(
            slug="steady", owner=alice, team=alice.appkeeper_teams.get(), **DOCUMENTED
        )
        add_contract(app, at=JAN5)
        add_notice(app, datetime(2026, 3, 30, 12, 0, tzinfo=UTC))
    heartbeat(app, Q1.end_dt - timedelta(hours=30))
    with at(Q1_SCORED):
        (april,), _ = score_fleet(Q1)
    assert april.reasons["telemetry"][-1] == (
        "no heartbeat in the last 24 hours (last seen 30 Mar 2026, 18:00 UTC)"
    )
    assert april.metrics["responsiveness"] == {"notices": 1, "median_hours": 36.0, "unanswered": 1}
    # After the quarter: a heartbeat, an answer, a worse contract and a new description.
    heartbeat(app, Q1.end_dt + timedelta(hours=1))
    add_action(app, bob, Q1.end_dt + timedelta(hours=2))
    add_contract(app, valid=False, at=Q1.end_dt, version="2")
    with at(Q1.end_dt + timedelta(days=3)):
        catalog_services.app_update(app=app, actor=alice, data={"runbook_url": ""})
    with at(A_YEAR_LATER):
        (december,), _ = score_fleet(Q1)
    assert (december.scores, december.reasons, december.metrics) == (
        april.scores,
        april.reasons,
        april.metrics,
    )


def test_stored_usage_rows_are_a_heartbeat_too(regions):
    """A delivery stamps the usage rows it stores: they outlive the pruned delivery ids."""
    with at(JAN5):
        app = MicroAppFactory(slug="pusher")
    with at(Q1.end_dt - timedelta(hours=3)):
        add_usage(app, regions["eu-central"], date(2026, 3, 30), 1)
    with at(A_YEAR_LATER):
        (result,), _ = score_fleet(Q1)
    assert result.metrics["telemetry"]["heartbeat_fresh"] is True
    assert result.metrics["telemetry"]["last_seen_at"] == "2026-03-31T21:00:00+00:00"


def _fleet(size: int, regions, team, owner, successor, other_team) -> None:
    """``size`` apps with every input in play, and changes after the quarter to wind back."""
    for _ in range(size):
        with at(JAN5):
            app = MicroAppFactory(team=team, owner=owner, **DOCUMENTED)
            add_contract(app, at=JAN5)
            add_usage(app, regions["eu-central"], Q1.start, 3)
            add_notice(app, JAN5 + timedelta(days=1))
            add_action(app, owner, JAN5 + timedelta(days=2))
        heartbeat(app, Q1.end_dt - timedelta(hours=2))
        with at(Q1.end_dt + timedelta(days=5)):
            catalog_services.app_update(
                app=app,
                actor=owner,
                data={"description": "Changed.", "owner": successor, "team": other_team},
            )


def test_recomputing_stays_query_flat_with_history_to_wind_back(
    regions, alice, bob, support_tools, field_ops, django_assert_max_num_queries
):
    with at(Q1_SCORED):
        services.scorecards_compute(quarter=Q1)  # the stored rows a rerun reads
    _fleet(5, regions, support_tools, alice, bob, field_ops)
    # 17: one reads the retired apps each app called at the quarter's end, one the co-owners.
    with at(A_YEAR_LATER), django_assert_max_num_queries(17) as small:
        services.scorecards_compute(quarter=Q1)
    _fleet(45, regions, support_tools, alice, bob, field_ops)
    with at(A_YEAR_LATER), django_assert_max_num_queries(len(small.captured_queries)):
        services.scorecards_compute(quarter=Q1)
    cards = Scorecard.objects.filter(quarter="2026-Q1")
    assert cards.count() == 50
    # Scored for the team, owner and description they had on 31 March.
    assert set(cards.values_list("team_id", flat=True)) == {support_tools.pk}
    assert {c.documentation for c in cards} == {100}
    assert {c.responsiveness for c in cards} == {100}


def test_a_creation_recorded_after_the_end_is_not_a_change_to_undo():
    """An app backdated on import has its "created" event later: nothing to wind back."""
    with at(JAN5):
        app = MicroAppFactory(slug="imported", **DOCUMENTED)
    add_action(app, None, Q1.end_dt + timedelta(days=1), action="created")
    AuditEvent.objects.filter(app=app).update(
        changes={name: [None, DOCUMENTED[name]] for name in DOCUMENTED}
    )
    with at(A_YEAR_LATER):
        (result,), _ = score_fleet(Q1)
    assert result.reasons["documentation"] == ["no API contract"]
