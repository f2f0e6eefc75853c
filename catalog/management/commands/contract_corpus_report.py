"""Print how the contract diff engine scores on the oasdiff-derived corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from contracts.corpus import run_corpus


def default_corpus_dir() -> Path:
    """The corpus is kept in the repository: ``tests/data`` (sources in its README.md)."""
    return Path(settings.BASE_DIR) / "tests" / "data" / "openapi-diff-oasdiff"


class Command(BaseCommand):
    help = "Run cases.json of the OpenAPI diff corpus and print per-level figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folder", type=Path, default=None, help="corpus folder")
        parser.add_argument("--verbose-misses", action="store_true", help="list missed cases")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = options["folder"] or default_corpus_dir()
        if not (folder / "cases.json").is_file():
            raise CommandError(f"no cases.json in {folder}")
        report = run_corpus(folder)
        header = (
            f"{'level':<6} {'cases':>6} {'hit':>6} {'missed':>7} {'hit %':>7} {'INFO as ERR':>12}"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for level, row in report.figures().items():
            pct = f"{100 * row['hit'] / row['cases']:.1f}" if row["cases"] else "-"
            self.stdout.write(
                f"{level:<6} {row['cases']:>6} {row['hit']:>6} {row['missed']:>7} {pct:>7} "
                f"{row['info_as_err']:>12}"
            )
        if options["verbose_misses"]:
            for case in report.missed():
                self.stdout.write(f"MISSED {case.level} {case.test}: expected {case.expected}")
