"""Chargeback totals are summed from the grouped rows; distinct apps are counted once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scorecards import chargeback as cb
from scorecards.periods import parse_quarter
from tests.scorecards import test_api_chargeback as api_tests

pytestmark = pytest.mark.django_db
URL = api_tests.URL
usage = api_tests.usage  # the fixture: two apps, two teams, two regions

GROUPINGS = [
    "team",
    "cost_center",
    "region",
    "runtime",
    "app",
    "environment",
    "team,region",
    "runtime,app",
]


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_totals_are_the_same_for_every_grouping(api_as, fin, usage, group_by):
    data = api_as(fin).get(URL, {"period": "2026-Q4", "group_by": group_by}).json()
    rows, totals = data["rows"], data["totals"]
    assert totals == api_tests.figures(17500, 50, "58.0000", "3.3143", 2)
    assert sum(r["requests"] for r in rows) == totals["requests"]
    assert sum(r["errors"] for r in rows) == totals["errors"]
    assert sum(Decimal(r["cost"]) for r in rows) == Decimal(totals["cost"])


def test_an_app_in_two_regions_is_one_app_in_the_total(api_as, fin, usage):
    data = api_as(fin).get(URL, {"period": "2026-Q4", "group_by": "region"}).json()
    assert sum(r["apps"] for r in data["rows"]) == 3  # ticket-router runs in both regions
    assert data["totals"]["apps"] == 2


def test_an_empty_period_has_zero_totals(api_as, fin, usage):
    for group_by in ("team", "region"):
        data = api_as(fin).get(URL, {"period": "2025-Q1", "group_by": group_by}).json()
        assert data["rows"] == []
        assert data["totals"] == api_tests.figures(0, 0, "0.0000", None, 0)


@pytest.mark.parametrize(
    ("group_by", "queries"),
    [(["team"], 1), (["app", "runtime"], 1), (["region"], 2), (["team", "region"], 2)],
)
def test_one_pass_over_the_usage_unless_a_region_splits_apps(
    usage, django_assert_num_queries, group_by, queries
):
    with django_assert_num_queries(queries):
        report = cb.chargeback_report(
            period=parse_quarter("2026-Q4"), group_by=group_by, scope=cb.Scope(None)
        )
    assert report.totals["apps"] == 2
