"""Print how Backstage catalogs import and round-trip (the database is left unchanged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.backstage.corpus import run_corpus

KINDS = ("Group", "User", "Component", "API")
ACTIONS = ("created", "updated", "unchanged", "skipped", "error", "refused")


def default_folders() -> list[Path]:
    """Backstage's example catalog and a new Backstage app's entities, kept in ``tests/data``
    (sources and licences in its README.md)."""
    root = Path(settings.BASE_DIR) / "tests" / "data" / "backstage"
    return [root / "backstage-examples", root / "create-app-examples"]


class Command(BaseCommand):
    help = (
        "Import Backstage catalogs cold (one batch; file by file, both orders) inside a "
        "rolled-back transaction, export them back, and print the counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folders", nargs="*", type=Path, help="folders of *.yaml catalog files")

    def handle(self, *args: Any, **options: Any) -> None:
        folders = options["folders"] or default_folders()
        for folder in folders:
            if not folder.is_dir():
                raise CommandError(f"no such folder: {folder}")
        for run in run_corpus(folders):
            self.stdout.write(f"\n{run.name}")
            header = f"{'kind':<10}" + "".join(f"{a:>10}" for a in ACTIONS) + f"{'round trip':>14}"
            self.stdout.write(header)
            self.stdout.write("-" * len(header))
            kinds = list(KINDS) + sorted({k for k, _ in run.actions} - set(KINDS))
            for kind in kinds:
                cells = "".join(f"{run.actions.get((kind, a), 0):>10}" for a in ACTIONS)
                trip = f"{run.whole.get(kind, 0)}/{run.read.get(kind, 0)}"
                self.stdout.write(f"{kind:<10}{cells}{trip:>14}")
            self.stdout.write(
                f"dependencies linked: {run.dependencies}; contracts stored: {run.contracts}; "
                f"files refused: {', '.join(run.refused_files) or 'none'}"
            )
