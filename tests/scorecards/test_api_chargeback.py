"""GET /api/v1/chargeback/: periods, groupings, CSV, roles, decimal exactness, budgets."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from catalog.models import MicroApp
from lifecycle.models import UsageReport
from tests.factories import MicroAppFactory, TeamFactory, UserFactory
from tests.scorecards.factories import add_usage

pytestmark = pytest.mark.django_db
URL = "/api/v1/chargeback/"


@pytest.fixture
def usage(regions, alice, carol, support_tools, field_ops, platform_team):
    eu, us = regions["eu-central"], regions["us-east"]
    support_tools.cost_center = "CC-1001"
    support_tools.save()
    field_ops.cost_center = "CC-2040"
    field_ops.save()
    router = MicroAppFactory(
        slug="ticket-router",
        team=support_tools,
        owner=alice,
        runtime="aws-lambda",
        environment="production",
    )
    planner = MicroAppFactory(
        slug="shift-planner", team=field_ops, owner=carol, runtime="k8s", environment="staging"
    )
    add_usage(router, eu, date(2026, 10, 1), 10, requests=1000, cost="1.2500", errors=5)
    add_usage(router, us, date(2026, 10, 1), 5, requests=500, cost="0.5000")
    add_usage(router, eu, date(2026, 11, 1), 3, requests=1000, cost="1.0000")
    add_usage(planner, eu, date(2026, 10, 1), 20, requests=100, cost="2.0000")
    add_usage(planner, eu, date(2026, 9, 1), 30, requests=100, cost="1.0000")
    return {"router": router, "planner": planner}


def rows_by(data, key):
    return {row[key]: row for row in data["rows"]}


def figures(requests, errors, cost, cost_per_1k_requests, apps) -> dict:
    """The numbers of a chargeback row or of the totals, as the API answers them."""
    return {
        "requests": requests,
        "errors": errors,
        "cost": cost,
        "cost_per_1k_requests": cost_per_1k_requests,
        "apps": apps,
    }


def test_quarter_by_team(api_as, fin, usage, settings):
    settings.APPKEEPER_CURRENCY = "CHF"
    response = api_as(fin).get(URL, {"period": "2026-Q4", "group_by": "team"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["period"] == {
        "kind": "quarter",
        "label": "2026-Q4",
        "start": "2026-10-01",
        "end": "2026-12-31",
    }
    assert data["currency"] == "CHF"
    assert data["group_by"] == ["team"]
    assert data["rows"] == [
        {"team": "field-ops", **figures(2000, 0, "40.0000", "20.0000", 1)},
        {"team": "support-tools", **figures(15500, 50, "18.0000", "1.1613", 1)},
    ]
    assert data["totals"] == figures(17500, 50, "58.0000", "3.3143", 2)


def test_month_and_date_range_periods(api_as, fin, usage):
    month = api_as(fin).get(URL, {"period": "2026-10"}).json()
    assert month["period"]["end"] == "2026-10-31"
    assert rows_by(month, "team")["support-tools"]["cost"] == "15.0000"
    assert month["group_by"] == ["team"]  # the default grouping
    ranged = api_as(fin).get(URL, {"from": "2026-10-01", "to": "2026-10-05"}).json()
    assert ranged["period"] == {
        "kind": "range",
        "label": "2026-10-01..2026-10-05",
        "start": "2026-10-01",
        "end": "2026-10-05",
    }
    teams = rows_by(ranged, "team")
    assert (teams["support-tools"]["requests"], teams["support-tools"]["cost"]) == (7500, "8.7500")
    assert teams["field-ops"]["cost"] == "10.0000"
    both = api_as(fin).get(URL, {"period": "2026-Q3", "from": "2026-10-01", "to": "2026-10-05"})
    assert both.json()["period"]["label"] == "2026-10-01..2026-10-05"  # dates win
    lone = api_as(fin).get(URL, {"to": "2026-11-02"}).json()["period"]
    assert (lone["start"], lone["end"]) == ("2026-10-01", "2026-11-02")
    assert api_as(fin).get(URL, {"group_by": "team,team"}).json()["group_by"] == ["team"]
    previous = api_as(fin).get(URL, {"period": "2026-Q3"}).json()
    assert [r["team"] for r in previous["rows"]] == ["field-ops"]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("team", {"support-tools": "18.0000", "field-ops": "40.0000"}),
        ("cost_center", {"CC-1001": "18.0000", "CC-2040": "40.0000"}),
        ("region", {"eu-central": "55.5000", "us-east": "2.5000"}),
        ("runtime", {"aws-lambda": "18.0000", "k8s": "40.0000"}),
        ("app", {"ticket-router": "18.0000", "shift-planner": "40.0000"}),
        ("environment", {"production": "18.0000", "staging": "40.0000"}),
    ],
)
def test_each_grouping(api_as, pat, usage, key, expected):
    data = api_as(pat).get(URL, {"period": "2026-Q4", "group_by": key}).json()
    assert {row[key]: row["cost"] for row in data["rows"]} == expected
    assert all(
        set(row) == {key, "requests", "errors", "cost", "cost_per_1k_requests", "apps"}
        for row in data["rows"]
    )


def test_two_keys(api_as, fin, usage):
    data = api_as(fin).get(URL, {"period": "2026-Q4", "group_by": "team,region"}).json()
    pairs = {(r["team"], r["region"]): r["cost"] for r in data["rows"]}
    assert pairs == {
        ("field-ops", "eu-central"): "40.0000",
        ("support-tools", "eu-central"): "15.5000",
        ("support-tools", "us-east"): "2.5000",
    }
    repeated = api_as(fin).get(URL + "?period=2026-Q4&group_by=team&group_by=region").json()
    assert repeated["rows"] == data["rows"]


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("how", ["param", "accept"])
def test_csv_is_invoice_ready(api_as, fin, usage, how):
    client = api_as(fin)
    query = {"period": "2026-Q4", "group_by": "team,region"}
    if how == "param":
        response = client.get(URL, {**query, "format": "csv"})
    else:
        response = client.get(URL, query, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="chargeback-2026-Q4-team-region.csv"' in response["Content-Disposition"]
    rows = _csv(response)
    # The header and the first row, column by column.
    assert list(zip(rows[0], rows[1], strict=True)) == [
        ("team", "field-ops"),
        ("region", "eu-central"),
        ("requests", "2000"),
        ("errors", "0"),
        ("cost", "40.0000"),
        ("cost_per_1k_requests", "20.0000"),
        ("apps", "1"),
        ("currency", "EUR"),
        ("period_start", "2026-10-01"),
        ("period_end", "2026-12-31"),
    ]
    assert rows[-1][:5] == ["TOTAL", "", "17500", "50", "58.0000"]
    assert len(rows) == 5


def test_owners_see_their_teams_only(api_as, alice, bob, carol, usage):
    for user in (alice, bob):
        data = api_as(user).get(URL, {"period": "2026-Q4"}).json()
        assert [r["team"] for r in data["rows"]] == ["support-tools"]
        assert data["totals"]["cost"] == "18.0000"
        mine = api_as(user).get(URL, {"period": "2026-Q4", "team": "support-tools"})
        assert mine.status_code == 200
    response = api_as(carol).get(URL, {"period": "2026-Q4", "team": "support-tools"})
    assert response.status_code == 403
    assert "support-tools" in response.json()["detail"]
    assert api_as(alice).get(URL, {"team": "field-ops"}).status_code == 403
    assert api_as(alice).get(URL, {"team": "no-such-team"}).status_code == 403
    carols = api_as(carol).get(URL, {"period": "2026-Q4", "group_by": "app"}).json()
    assert [r["app"] for r in carols["rows"]] == ["shift-planner"]


def test_finance_and_platform_see_everything_and_may_filter(api_as, fin, pat, usage):
    for user in (fin, pat):
        data = api_as(user).get(URL, {"period": "2026-Q4"}).json()
        assert len(data["rows"]) == 2
    only = api_as(fin).get(URL, {"period": "2026-Q4", "team": "field-ops"}).json()
    assert [r["team"] for r in only["rows"]] == ["field-ops"]


def test_others_are_refused(api, api_as, usage, regions):
    outsider = UserFactory(username="dave")
    response = api_as(outsider).get(URL, {"format": "csv"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert api.get(URL).status_code == 401  # anonymous: authenticate first
    # Refused before the parameters are read: a bad one is no 400 that hints at more.
    assert api_as(outsider).get(URL, {"period": "2026-Q9"}).status_code == 403


@pytest.mark.parametrize(
    ("query", "field", "mentions"),
    [
        ({"period": "2026-Q5"}, "period", "2026-Q4"),
        ({"period": "last-quarter"}, "period", "2026-10"),
        ({"period": ""}, "period", "must not be empty"),
        ({"from": "2026-10-05", "to": "2026-10-01"}, "period", "must not be before"),
        ({"from": "1st of October"}, "period", "YYYY-MM-DD"),
        # Only YYYY-MM-DD, as `format: date` says (fromisoformat would read these).
        ({"to": "20261001"}, "period", "YYYY-MM-DD"),
        ({"to": "2026-W40-1"}, "period", "YYYY-MM-DD"),
        ({"to": " 2026-10-01"}, "period", "YYYY-MM-DD"),
        ({"to": ["2026-10-01", "2026-10-02"]}, "to", "once"),
        ({"period": ["2026-Q3", "2026-Q4"]}, "period", "once"),
        ({"period": "2026-Q3 "}, "period", "2026-Q4"),
        ({"group_by": "colour"}, "group_by", "cost_center"),
        ({"group_by": "team,region,app"}, "group_by", "environment"),
        ({"group_by": ""}, "group_by", "must not be empty"),
        ({"group_by": "team,"}, "group_by", "runtime"),
        ({"format": "xml"}, "format", "csv"),
        ({"format": ""}, "format", "csv"),
    ],
)
def test_bad_parameters_are_400_naming_valid_values(api_as, fin, query, field, mentions):
    response = api_as(fin).get(URL, {"format": "csv", **query})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert mentions in response.json()[field]


def test_many_cents_sum_exactly(api_as, fin, regions, support_tools):
    apps = [MicroAppFactory(team=support_tools) for _ in range(5)]
    eu, us = regions["eu-central"], regions["us-east"]
    q4_days = range(92)

    def report(app, region, d: int, requests: int, cost: str) -> UsageReport:
        day = date(2026, 10, 1) + _days(d)
        return UsageReport(app=app, region=region, date=day, requests=requests, cost=Decimal(cost))

    # A cent a day for each of five apps; a hundredth of a cent a day for one of them elsewhere.
    UsageReport.objects.bulk_create(report(app, eu, d, 1, "0.01") for app in apps for d in q4_days)
    UsageReport.objects.bulk_create(report(apps[0], us, d, 3, "0.0001") for d in q4_days)
    data = api_as(fin).get(URL, {"period": "2026-Q4", "group_by": "app"}).json()
    assert data["totals"]["cost"] == "4.6092"  # 460 × 0.01 + 92 × 0.0001, exactly
    assert sum(Decimal(r["cost"]) for r in data["rows"]) == Decimal("4.6092")
    per_1k = {r["cost"]: r["cost_per_1k_requests"] for r in data["rows"]}
    assert per_1k == {"0.9292": "2.5250", "0.9200": "10.0000"}
    csv_rows = _csv(api_as(fin).get(URL, {"period": "2026-Q4", "format": "csv"}))
    assert csv_rows[-1][3] == "4.6092"


def _days(n):
    from datetime import timedelta

    return timedelta(days=n)


def _fleet(size, regions):
    for i in range(size):
        team = TeamFactory()
        app = MicroAppFactory(team=team, runtime=f"rt-{i % 3}")
        add_usage(app, regions["eu-central"], date(2026, 10, 1), 2)


@pytest.mark.parametrize("group_by", ["team", "team,region", "app"])
def test_query_budget_does_not_grow_with_the_fleet(
    api_as, fin, regions, django_assert_max_num_queries, group_by
):
    client = api_as(fin)
    for size in (3, 30):
        _fleet(size, regions)
        assert MicroApp.objects.count() >= size
        with django_assert_max_num_queries(4):
            response = client.get(URL, {"period": "2026-Q4", "group_by": group_by})
        assert response.status_code == 200
        with django_assert_max_num_queries(4):
            response = client.get(URL, {"period": "2026-Q4", "group_by": group_by, "format": "csv"})
        assert response.status_code == 200
