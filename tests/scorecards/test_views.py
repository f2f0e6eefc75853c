"""The HTML pages: scorecards, cleanup report, chargeback and the app-page panel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from core.panels import APP_PANELS, nav_for
from scorecards import services
from scorecards.models import Scorecard
from scorecards.periods import parse_quarter
from tests.factories import MicroAppFactory, TeamFactory, UserFactory
from tests.scorecards.conftest import NOW
from tests.scorecards.factories import add_contract, add_usage, documented_app

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def fleet(frozen, regions, alice, carol, support_tools, field_ops):
    good = documented_app(
        slug="good",
        team=support_tools,
        owner=alice,
        state="active",
        last_seen_at=NOW - timedelta(hours=1),
    )
    add_contract(good)
    add_usage(good, regions["eu-central"], date(2026, 7, 1), 92, requests=1000, cost="2.5000")
    add_usage(good, regions["us-east"], date(2026, 6, 1), 30, requests=10, cost="1.0000")
    bad = MicroAppFactory(
        slug="bad", name="Bad App", team=field_ops, owner=carol, state="active", runbook_url=""
    )
    add_usage(bad, regions["us-east"], date(2026, 8, 1), 10, requests=5, cost="9.0000")
    services.scorecards_compute(quarter=parse_quarter("2026-Q2"))
    services.scorecards_compute(quarter=parse_quarter("2026-Q3"))
    return {"good": good, "bad": bad}


def test_scorecards_page_shows_leaderboard_chart_rubric_and_table(fleet, alice):
    response = client_for(alice).get("/scorecards/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Scorecards · 2026-Q3" in html
    assert "Team leaderboard" in html and "Support Tools" in html and "Field Ops" in html
    assert '<svg class="chart chart--grades"' in html
    assert "Rubric" in html and "expiry_reminder" in html
    assert "Bad App" in html and "no runbook URL" in html


def test_scorecards_page_htmx_partial_and_filters(fleet, alice):
    response = client_for(alice).get(
        "/scorecards/",
        {"quarter": "2026-Q3", "grade": "A"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="scorecard-results",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="scorecard-results"')
    assert "good" in html and "Bad App" not in html


def test_scorecards_page_treats_the_forms_empty_grade_as_any_grade(fleet, alice):
    # The filter form always submits every select; "Any grade" is ``grade=``.
    response = client_for(alice).get(
        "/scorecards/", {"quarter": "2026-Q3", "team": "field-ops", "grade": ""}
    )
    html = response.content.decode()
    assert "<strong>1</strong> scorecard for 2026-Q3" in html
    assert "Bad App" in html
    assert "Select a valid choice" not in html


def test_api_scorecards_treat_empty_filters_as_no_filter(fleet, api_as, alice):
    response = api_as(alice).get(
        "/api/v1/scorecards/", {"quarter": "2026-Q3", "team": "field-ops", "grade": ""}
    )
    assert response.status_code == 200
    assert [card["app"] for card in response.json()["results"]] == ["bad"]


def test_scorecards_page_says_when_an_unscored_quarter_will_be_scored(fleet, alice):
    html = client_for(alice).get("/scorecards/", {"quarter": "2026-Q4"}).content.decode()
    assert "2026-Q4 is still running" in html
    assert "the quarterly job scores 2026-Q4 on" in html
    assert '<time datetime="2027-01-01T02:00:00+00:00">1 Jan 2027, 02:00 UTC</time>' in html
    assert "manage.py" not in html
    assert "Score 2026-Q4 now" not in html


def test_an_ended_quarter_never_scored_offers_the_platform_team_to_score_it(fleet, alice, pat):
    html = client_for(alice).get("/scorecards/", {"quarter": "2026-Q1"}).content.decode()
    assert "2026-Q1 was not scored" in html and "1 Apr 2026, 02:00 UTC" in html
    assert "Score 2026-Q1 now" not in html and "manage.py" not in html
    assert client_for(alice).post("/scorecards/compute/", {"quarter": "2026-Q1"}).status_code == 403

    platform = client_for(pat)
    assert (
        'action="/scorecards/compute/"'
        in platform.get("/scorecards/", {"quarter": "2026-Q1"}).content.decode()
    )
    response = platform.post("/scorecards/compute/", {"quarter": "2026-Q1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/scorecards/?quarter=2026-Q1"
    assert "Scoring 2026-Q1 has started" in response.content.decode()
    assert Scorecard.objects.filter(quarter="2026-Q1").count() == 2


def test_scoring_a_running_or_malformed_quarter_is_refused(fleet, pat):
    platform = client_for(pat)
    running = platform.post("/scorecards/compute/", {"quarter": "2026-Q4"}, follow=True)
    assert "2026-Q4 has not ended: it is scored on 1 Jan 2027" in running.content.decode()
    assert not Scorecard.objects.filter(quarter="2026-Q4").exists()
    assert platform.post("/scorecards/compute/", {"quarter": "2026-Q9"}).status_code == 400
    assert platform.get("/scorecards/compute/").status_code == 405


def test_a_grade_that_is_not_a_grade_is_explained_next_to_the_filter(fleet, alice):
    response = client_for(alice).get("/scorecards/", {"quarter": "2026-Q3", "grade": "Z"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "“Z” is not a grade: choose A, B, C, D or F. Showing every grade instead." in html
    assert 'aria-invalid="true" aria-describedby="grade-error"' in html
    assert "Select a valid choice" not in html
    assert "Bad App" in html and "good" in html  # every grade, not an empty table


def test_filters_that_match_nothing_say_so_and_offer_the_whole_quarter(fleet, alice):
    html = (
        client_for(alice)
        .get("/scorecards/", {"quarter": "2026-Q3", "team": "field-ops", "grade": "A"})
        .content.decode()
    )
    assert "No scorecards match these filters" in html
    assert "<strong>0</strong> scorecards for 2026-Q3 match your filters" in html
    assert 'href="/scorecards/?quarter=2026-Q3">Show all of 2026-Q3' in html


def test_to_fix_lists_the_costliest_fixes_and_folds_the_rest(fleet, alice):
    html = client_for(alice).get("/scorecards/", {"quarter": "2026-Q3"}).content.decode()
    bad = html.split("Bad App", 1)[1].split("</tr>", 1)[0]
    assert bad.count('<ul class="fix-list">') == 2  # the first two, then the rest folded
    assert '<details class="fix-more"><summary>+' in bad
    assert "cheaper than" not in html


def test_the_scorecards_page_runs_a_fixed_number_of_queries(
    fleet, alice, regions, django_assert_max_num_queries
):
    client = client_for(alice)
    with django_assert_max_num_queries(14) as few:
        client.get("/scorecards/", {"quarter": "2026-Q3"})
    for i in range(12):
        app = MicroAppFactory(slug=f"extra-{i}", team=fleet["bad"].team, state="active")
        add_usage(app, regions["us-east"], date(2026, 8, 1), 3, requests=5, cost="1.0000")
    services.scorecards_compute(quarter=parse_quarter("2026-Q3"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/scorecards/", {"quarter": "2026-Q3"}).content.decode()
    assert "<strong>14</strong> scorecards for 2026-Q3" in html


def test_cleanup_page_and_csv(fleet, pat):
    client = client_for(pat)
    html = client.get("/scorecards/cleanup/", {"quarter": "2026-Q3"}).content.decode()
    assert "Cleanup report · 2026-Q3" in html
    assert "Bad App" in html and "Stale telemetry" in html
    response = client.get("/scorecards/cleanup/", {"quarter": "2026-Q3", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "bad,Bad App" in response.content.decode()


def test_chargeback_page_for_finance(fleet, fin):
    response = client_for(fin).get("/chargeback/", {"period": "2026-Q3", "group_by": "team"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="chargeback-table"' in html
    assert "Support Tools" in html  # bar chart and month-over-month tables
    assert '<svg class="chart chart--bars"' in html
    assert "Jun 2026" in html and "Sep 2026" in html  # the month before, then the quarter
    assert "/api/v1/chargeback/?group_by=team&amp;format=csv&amp;period=2026-Q3" in html
    assert "support-tools" in html and "field-ops" in html


def test_chargeback_table_names_groups_and_writes_money_and_counts_for_people(fleet, fin):
    html = (
        client_for(fin)
        .get("/chargeback/", {"period": "2026-Q3", "group_by": "team", "then_by": "region"})
        .content.decode()
    )
    table = html.split('id="chargeback-table"', 1)[1].split("</table>", 1)[0]
    # The name first, the slug or code underneath: finance reads names, the CSV keeps slugs.
    assert '<th scope="row">Support Tools<span class="cell-sub">support-tools</span></th>' in table
    assert '<th scope="row">Eu-Central<span class="cell-sub">eu-central</span></th>' in table
    assert "<strong>€230.00</strong>" in table  # 92 days × 2.5000, two decimals
    assert '<td class="num">92,000</td>' in table  # requests, thousands grouped
    assert "230.0000" not in table
    assert 'type="date"' in html and "chargeback-filters" in html


def test_chargeback_page_runs_a_fixed_number_of_queries(
    fleet, fin, regions, django_assert_max_num_queries
):
    client = client_for(fin)
    query = {"period": "2026-Q3", "group_by": "app", "then_by": "region"}
    with django_assert_max_num_queries(12) as few:
        client.get("/chargeback/", query)
    for i in range(10):
        app = MicroAppFactory(slug=f"more-{i}", team=TeamFactory(), state="active")
        add_usage(app, regions["uk-south"], date(2026, 8, 1), 2, requests=10, cost="1.0000")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/chargeback/", query).content.decode()
    assert "more-9" in html


@pytest.fixture
def autumn_costs(regions, support_tools, alice):
    app = MicroAppFactory(slug="router", team=support_tools, owner=alice, state="active")
    add_usage(app, regions["eu-central"], date(2026, 9, 1), 30, cost="1.0000")
    add_usage(app, regions["eu-central"], date(2026, 10, 1), 31, cost="2.0000")
    add_usage(app, regions["eu-central"], date(2026, 11, 1), 14, cost="2.0000")
    return app


def mom_table(html: str) -> str:
    return html.split('id="chargeback-mom"', 1)[1].split("</section>", 1)[0]


def test_chargeback_default_view_compares_complete_months_only(autumn_costs, fin):
    # Mid-November: October is the last complete month of the current quarter.
    with time_machine.travel(datetime(2026, 11, 15, 12, 0, tzinfo=UTC), tick=False):
        html = client_for(fin).get("/chargeback/").content.decode()
    table = mom_table(html)
    assert "-100.0%" not in table
    assert "+106.7%" in table  # 62.00 in October against 30.00 in September
    assert "Nov 2026" not in table.split("</thead>")[0]
    assert "Change: Oct 2026 against Sep 2026, complete months only." in table
    assert "Nov 2026, Dec 2026 are not over yet, so not compared." in table
    assert "€90.00" in html  # the bar chart still counts the whole period to date


def test_chargeback_says_when_no_month_of_the_period_is_complete(autumn_costs, fin):
    with time_machine.travel(datetime(2026, 10, 20, 12, 0, tzinfo=UTC), tick=False):
        html = client_for(fin).get("/chargeback/").content.decode()
    table = mom_table(html)
    assert "%" not in table.split("</tbody>")[0]
    assert "No month of 2026-Q4 is complete yet: the change appears once Oct 2026 has ended." in (
        table
    )


def test_chargeback_page_scopes_owners_and_refuses_others(fleet, alice):
    html = client_for(alice).get("/chargeback/", {"period": "2026-Q3"}).content.decode()
    assert "support-tools" in html and "field-ops" not in html
    assert "for your teams" in html
    assert client_for(UserFactory(username="dave")).get("/chargeback/").status_code == 403


def test_chargeback_page_form_errors_and_ranges(fleet, fin):
    client = client_for(fin)
    html = client.get(
        "/chargeback/", {"date_from": "2026-09-05", "date_to": "2026-09-01"}
    ).content.decode()
    assert "must not be before from" in html
    html = client.get(
        "/chargeback/", {"period": "2026-Q3", "group_by": "team", "then_by": "team"}
    ).content.decode()
    assert "/api/v1/chargeback/?group_by=team&amp;" in html  # the same key twice is one key
    html = client.get(
        "/chargeback/", {"date_from": "2026-09-01", "date_to": "2026-09-30", "group_by": "region"}
    ).content.decode()
    assert "from=2026-09-01&amp;to=2026-09-30" in html
    assert "eu-central" in html
    default = client.get("/chargeback/")
    assert default.status_code == 200 and "2026-Q4" in default.content.decode()


def test_app_page_panel_shows_live_score_and_trend(fleet, alice):
    assert "scorecard" in APP_PANELS
    response = client_for(alice).get("/apps/good/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026-Q4 to date" in html
    assert "2026-Q2" in html and "2026-Q3" in html  # the trend's quarters
    assert "chart--trend" in html


def test_app_panel_query_count_is_fixed(fleet, alice, django_assert_max_num_queries):
    from scorecards.views import app_scorecard_panel

    for i in range(10):
        MicroAppFactory(team=TeamFactory(), slug=f"more-{i}", state="active")
    app = fleet["good"]
    # 9: one reads the retired apps it calls (dependency health).
    with django_assert_max_num_queries(9):
        context = app_scorecard_panel(None, app)
    assert context["live"] is not None
    assert [c.quarter for c in context["history"]] == ["2026-Q2", "2026-Q3"]


def test_nav_entries(fleet, alice, fin):
    outsider = UserFactory(username="dave")
    assert {"Scorecards", "Chargeback"} <= {e.label for e in nav_for(fin)}
    assert "Chargeback" in {e.label for e in nav_for(alice)}
    assert {e.label for e in nav_for(outsider)} >= {"Scorecards"}
    assert "Chargeback" not in {e.label for e in nav_for(outsider)}
