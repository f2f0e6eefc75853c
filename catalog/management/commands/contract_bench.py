"""Time and memory of loading, validating and diffing real contract documents."""

from __future__ import annotations

import resource
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from benchmarks.contracts import contract_rows


class Command(BaseCommand):
    help = (
        "Benchmark the contract engine on the real documents in tests/data: Stripe's pair, "
        "OpenAI's openapi.yaml (as is and grown to 4 MB) and GitHub's GraphQL schema."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-memory",
            action="store_true",
            help="skip the tracemalloc peaks (each step then runs once, not twice)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = contract_rows(memory=not options["no_memory"])
        self.stdout.write(f"{'step':<38} {'wall s':>7} {'cpu s':>7} {'peak MB':>8}  notes")
        self.stdout.write("-" * 96)
        for row in rows:
            peak = f"{row.peak_mb:>8.1f}" if row.peak_mb is not None else f"{'':>8}"
            self.stdout.write(f"{row.step:<38} {row.wall:>7.2f} {row.cpu:>7.3f} {peak}  {row.note}")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"process max RSS: {rss:.0f} MB")
