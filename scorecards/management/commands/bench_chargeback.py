"""Benchmark: the quarter-by-team chargeback query against hand-written SQL, and scoring.

    manage.py bench_chargeback                      # the data already in the database
    manage.py bench_chargeback --seed 2000 --days 180   # a synthetic fleet, rolled back

Prints one table: chargeback ORM vs raw SQL ``GROUP BY`` (medians of ``--repeat`` runs taken
in turns, one grouped statement each, totals summed from the rows; the same floor SQL as the
``python -m benchmarks`` chargeback row), their ratio (target ≤ 1.2), and the
scorecard computation for the whole fleet (time and query count, which must not depend on
the number of apps).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import MicroApp, Region, Team
from lifecycle.models import UsageReport
from scorecards import chargeback as cb
from scorecards import periods, services
from scorecards.scoring import scorable_apps

# The floor: the same one GROUP BY that ``python -m benchmarks`` times for its chargeback
# row (it imports this text), with the same columns as a report row (apps and errors
# included). The totals row is summed from the grouped rows in Python, as the report does.
FLOOR_SQL = """
SELECT t.slug, SUM(u.requests), SUM(u.errors), SUM(u.cost), COUNT(DISTINCT u.app_id)
FROM lifecycle_usagereport u
JOIN catalog_microapp a ON a.id = u.app_id
JOIN catalog_team t ON t.id = a.team_id
WHERE u.date >= %s AND u.date < %s
GROUP BY t.slug
ORDER BY t.slug
"""


def floor_report(cursor, start, end) -> dict:
    """The floor's answer: one row per team and a totals row summed from them."""
    cursor.execute(FLOOR_SQL, [start, end])
    rows = [
        {"team": r[0], "requests": r[1], "errors": r[2], "cost": r[3], "apps": r[4]}
        for r in cursor.fetchall()
    ]
    totals = {
        key: sum((row[key] for row in rows), Decimal(0) if key == "cost" else 0)
        for key in ("requests", "errors", "cost", "apps")
    }
    return {"rows": rows, "totals": totals}


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time chargeback (ORM vs raw SQL) and scorecard computation; print a table."

    def add_arguments(self, parser):
        parser.add_argument("--quarter", help="default: the previous quarter")
        parser.add_argument("--repeat", type=int, default=7)  # as BENCH_RUNS
        parser.add_argument("--seed", type=int, default=0, help="seed N synthetic apps first")
        parser.add_argument("--days", type=int, default=180, help="usage days per seeded app")

    def handle(self, *args, quarter=None, repeat=7, seed=0, days=180, **options):
        period = periods.parse_quarter(quarter) if quarter else periods.previous_quarter()
        try:
            with transaction.atomic():
                if seed:
                    self._seed(seed, days, period)
                rows = self._measure(period, repeat)
                if seed:
                    raise Rollback
        except Rollback:
            pass
        self._print(rows)

    # --- measuring -------------------------------------------------------------------------

    def _time(self, orm, raw, repeat: int) -> tuple[float, object, float, object]:
        """Medians of ``orm`` and ``raw`` run in turns (as ``python -m benchmarks`` does), so
        a change in the machine's load between two blocks of runs does not pick a winner."""
        timings: dict = {orm: [], raw: []}
        results: dict = {}
        for _ in range(repeat):
            for fn, samples in timings.items():
                started = time.perf_counter()
                results[fn] = fn()
                samples.append(time.perf_counter() - started)
        orm_s, raw_s = (statistics.median(timings[fn]) for fn in (orm, raw))
        return orm_s, results[orm], raw_s, results[raw]

    def _measure(self, period: periods.Period, repeat: int) -> list[tuple[str, str]]:
        scope = cb.Scope(None)

        def orm():
            return cb.chargeback_report(period=period, group_by=["team"], scope=scope)

        def raw():
            with connection.cursor() as cursor:
                return floor_report(cursor, period.start, period.end)

        orm(), raw()  # warm caches and the query planner once for both
        orm_s, report, raw_s, floor = self._time(orm, raw, repeat)
        assert [r["team"] for r in report.rows] == [r["team"] for r in floor["rows"]], (
            "ORM and SQL disagree on the groups"
        )
        assert report.totals["cost"] == floor["totals"]["cost"], "ORM and SQL disagree on cost"
        assert report.totals["apps"] == floor["totals"]["apps"], "ORM and SQL disagree on apps"
        apps = scorable_apps(period).count()
        usage_rows = UsageReport.objects.filter(date__gte=period.start, date__lt=period.end).count()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            sid = transaction.savepoint()
            result = services.scorecards_compute(quarter=period)
            transaction.savepoint_rollback(sid)  # measuring must not replace stored scores
            score_s = time.perf_counter() - started
        ratio = orm_s / raw_s if raw_s else float("nan")
        verdict = "ok" if ratio <= 1.2 else "SLOW"
        return [
            ("quarter", period.label),
            ("database", connection.vendor),
            ("apps scored", str(apps)),
            ("usage rows in quarter", str(usage_rows)),
            ("teams (groups)", str(len(report.rows))),
            ("chargeback ORM, median", f"{orm_s * 1000:.1f} ms"),
            ("chargeback raw SQL, median", f"{raw_s * 1000:.1f} ms"),
            ("ORM / SQL (target <= 1.2)", f"{ratio:.2f} {verdict}"),
            ("scorecards compute", f"{score_s:.2f} s for {result.scored} apps"),
            ("scorecards queries", f"{len(ctx.captured_queries)} (batches of 1000 writes)"),
        ]

    def _print(self, rows: list[tuple[str, str]]) -> None:
        width = max(len(k) for k, _ in rows)
        value_width = max(len(v) for _, v in rows)
        rule = f"+-{'-' * width}-+-{'-' * value_width}-+"
        self.stdout.write(rule)
        for key, value in rows:
            self.stdout.write(f"| {key.ljust(width)} | {value.ljust(value_width)} |")
        self.stdout.write(rule)

    # --- synthetic fleet -------------------------------------------------------------------

    def _seed(self, apps: int, days: int, period: periods.Period) -> None:
        rng = random.Random(7)
        regions = list(Region.objects.all()[:4]) or [
            Region.objects.create(code="bench-eu", name="Bench EU", jurisdiction="EU")
        ]
        owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
        teams = Team.objects.bulk_create(
            Team(name=f"Bench team {i}", slug=f"bench-team-{i}", cost_center=f"CC-B{i}")
            for i in range(max(1, apps // 100))
        )
        fleet = MicroApp.objects.bulk_create(
            MicroApp(
                name=f"Bench app {i}",
                slug=f"bench-app-{i}",
                kind="service",
                team=teams[i % len(teams)],
                owner=owner,
                state="active",
                runtime=rng.choice(["k8s", "aws-lambda"]),
                last_seen_at=timezone.now() - timedelta(hours=i % 48),
            )
            for i in range(apps)
        )
        # Registered before their first usage day: a quarter scores only the apps it saw.
        MicroApp.objects.filter(slug__startswith="bench-app-").update(
            created_at=period.start_dt - timedelta(days=days)
        )
        last = period.end - timedelta(days=1)
        batch: list[UsageReport] = []
        for app in fleet:
            region = regions[app.pk % len(regions)]
            for d in range(days):
                batch.append(
                    UsageReport(
                        app=app,
                        region=region,
                        date=last - timedelta(days=d),
                        requests=rng.randint(0, 5000),
                        errors=rng.randint(0, 20),
                        cost=Decimal(rng.randint(0, 100000)) / 10000,
                    )
                )
                if len(batch) >= 5000:
                    UsageReport.objects.bulk_create(batch)
                    batch = []
        UsageReport.objects.bulk_create(batch)
        self.stdout.write(f"Seeded {apps} apps × {days} days (rolled back at the end).")
