"""Pipeline check: validate a contract file and diff it against the app's latest version.

Exit status: 0 compatible, 1 breaking changes or invalid document, 2 unusable input.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.contract_services import contract_check
from catalog.models import MicroApp
from contracts import ContractError


class Command(BaseCommand):
    help = (
        "Validate FILE and report its changes against APP's latest contract (exit 1 if breaking)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--app", required=True, help="The app's slug.")
        parser.add_argument("--kind", choices=["openapi", "graphql"], default=None)
        parser.add_argument("--json", action="store_true", help="Print the API's JSON answer.")

    def handle(self, *args, file: Path, app: str, kind: str | None, **options):
        try:
            target = MicroApp.objects.get(slug=app)
        except MicroApp.DoesNotExist:
            raise CommandError(f"No app {app!r}.", returncode=2) from None
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}", returncode=2) from None
        try:
            result = contract_check(app=target, content=content, kind=kind)
        except ContractError as exc:
            for error in exc.errors:
                self.stderr.write(f"{error['path']}: {error['message']}")
            raise CommandError(f"{file} was refused ({exc.code}).", returncode=2) from None
        if options["json"]:
            self.stdout.write(_dumps(result.as_dict()))
        else:
            self._report(result, file)
        if not result.compatible:
            raise SystemExit(1)

    def _report(self, result, file: Path) -> None:
        base = result.base_version or "nothing (first version)"
        self.stdout.write(f"{file}: {result.spec_version}, compared with {base}")
        for error in result.errors:
            self.stdout.write(self.style.ERROR(f"  invalid  {error['path']}: {error['message']}"))
        for change in result.changes:
            style = {"ERR": self.style.ERROR, "WARN": self.style.WARNING}.get(change["level"], str)
            where = " ".join(p for p in (change.get("operation"), change.get("path")) if p)
            self.stdout.write(style(f"  {change['level']:<5} {change['id']}  {where}"))
            self.stdout.write(f"        {change['message']}")
        counts = {
            lvl: sum(c["level"] == lvl for c in result.changes) for lvl in ("ERR", "WARN", "INFO")
        }
        verdict = "compatible" if result.compatible else "NOT compatible"
        self.stdout.write(
            f"{verdict}: {counts['ERR']} breaking, {counts['WARN']} warnings, {counts['INFO']} info"
        )
        if result.impact is not None:
            self._report_impact(result.impact.as_dict())

    def _report_impact(self, impact: dict) -> None:
        summary = impact["summary"]
        if not summary["dependents"]:
            self.stdout.write("No live app depends on it.")
            return
        self.stdout.write(
            f"Reaches {summary['dependents']} live dependent(s), {summary['direct']} direct; "
            f"breaking changes touch {summary['touched']}."
        )
        for row in impact["dependents"]:
            if row["notified"]:
                self.stdout.write(
                    f"  touched  {row['slug']} ({row['owner']}): {row['touching_count']} change(s)"
                )
        if impact["needs_notice"]:
            self.stdout.write(
                self.style.WARNING(
                    f"Uploading needs effective_at at least {impact['notice_days']} days ahead, "
                    "or a platform override."
                )
            )


def _dumps(value) -> str:
    return json.dumps(value, indent=2)
