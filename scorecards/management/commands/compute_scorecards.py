"""Compute (or recompute) a quarter's scorecards from the command line."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from scorecards import periods, services


class Command(BaseCommand):
    help = "Score every app live during a quarter (default: the quarter that just ended)."

    def add_arguments(self, parser):
        parser.add_argument("--quarter", help="e.g. 2026-Q3; default: the previous quarter")

    def handle(self, *args, quarter: str | None = None, **options):
        try:
            period = periods.parse_quarter(quarter) if quarter else periods.previous_quarter()
        except periods.PeriodError as exc:
            raise CommandError(str(exc)) from None
        started = time.perf_counter()
        self.stdout.write(f"Scoring {period.label} ({period.start} to {period.last})...")

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {done}/{total} apps scored")

        result = services.scorecards_compute(quarter=period, progress=progress)
        grades = ", ".join(f"{g}: {n}" for g, n in sorted(result.grades.items())) or "none"
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.quarter}: {result.scored} scorecards stored ({grades}); "
                f"{result.removed} stale removed in {time.perf_counter() - started:.1f}s."
            )
        )
