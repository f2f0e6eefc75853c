"""Finance's quarterly journey: open chargeback, pick the quarter, download the CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from core.formats import money
from lifecycle.models import UsageReport
from scorecards import periods
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.e2e


def test_finance_downloads_the_quarters_chargeback_csv(cast, page, sign_in, live_server):
    quarter = periods.previous_quarter()
    eu = cast["regions"]["eu-central"]
    teams, users = cast["teams"], cast["users"]
    router = MicroAppFactory(
        slug="ticket-router", team=teams["support-tools"], owner=users["alice"], state="active"
    )
    planner = MicroAppFactory(
        slug="shift-planner", team=teams["field-ops"], owner=users["carol"], state="active"
    )

    def usage(app, d: int, requests: int, cost: str) -> UsageReport:
        day = quarter.start + timedelta(days=d)
        return UsageReport(app=app, region=eu, date=day, requests=requests, cost=Decimal(cost))

    # The router every day of the quarter, the planner on its first ten days.
    UsageReport.objects.bulk_create(
        [usage(router, d, 1000, "0.01") for d in range(quarter.days)]
        + [usage(planner, d, 10, "2.5000") for d in range(10)]
    )
    expected_router = f"{Decimal('0.01') * quarter.days:.4f}"

    sign_in(page, "fin")
    page.get_by_role("link", name="Chargeback").click()
    page.wait_for_url(f"{live_server.url}/chargeback/")
    page.get_by_label("Period", exact=True).select_option(quarter.label)
    page.get_by_label("Group by", exact=True).select_option("team")
    page.get_by_role("button", name="Show report").click()
    page.wait_for_url(f"**/chargeback/?*period={quarter.label}*")
    table = page.locator("#chargeback-table")
    # The page names the team (slug underneath) and rounds to cents; the CSV is exact.
    assert "Support Tools" in table.inner_text() and "support-tools" in table.inner_text()
    assert money(Decimal(expected_router), "EUR") in table.inner_text()
    assert expected_router not in table.inner_text()

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == f"chargeback-{quarter.label}-team.csv"
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert rows[0][:6] == ["team", "requests", "errors", "cost", "cost_per_1k_requests", "apps"]
    by_team = {row[0]: row for row in rows[1:]}
    assert by_team["support-tools"][3] == expected_router
    assert by_team["field-ops"][3] == "25.0000"
    assert by_team["TOTAL"][3] == f"{Decimal(expected_router) + Decimal('25'):.4f}"
    assert by_team["support-tools"][6:] == [
        "EUR",
        quarter.start.isoformat(),
        quarter.last.isoformat(),
    ]
