"""Checks grouped by category, and the table the runner prints."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass
class Check:
    category: str
    name: str
    held: bool
    detail: str = ""


class Report:
    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.seconds: dict[str, float] = defaultdict(float)

    def check(self, category: str, name: str, held: bool, detail: str = "") -> bool:
        self.checks.append(Check(category, name, bool(held), "" if held else detail))
        return bool(held)

    def crashed(self, category: str, error: BaseException) -> None:
        """A category that could not finish counts as one failed check, never as a pass."""
        self.check(category, "category ran to the end", False, f"{type(error).__name__}: {error}")

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.held]

    def table(self) -> str:
        by_category: dict[str, list[Check]] = defaultdict(list)
        for check in self.checks:
            by_category[check.category].append(check)
        width = max([len("category"), *map(len, by_category)])
        lines = [
            f"{'category':<{width}}  {'checks':>6}  {'held':>6}  {'failed':>6}  {'s':>5}",
            f"{'-' * width}  {'-' * 6}  {'-' * 6}  {'-' * 6}  {'-' * 5}",
        ]
        for category, checks in by_category.items():
            held = sum(c.held for c in checks)
            lines.append(
                f"{category:<{width}}  {len(checks):>6}  {held:>6}  {len(checks) - held:>6}"
                f"  {self.seconds[category]:>5.1f}"
            )
        total, failed = len(self.checks), len(self.failed)
        lines.append(f"{'-' * width}  {'-' * 6}  {'-' * 6}  {'-' * 6}  {'-' * 5}")
        lines.append(
            f"{'total':<{width}}  {total:>6}  {total - failed:>6}  {failed:>6}"
            f"  {sum(self.seconds.values()):>5.1f}"
        )
        if self.failed:
            lines.append("")
            lines.append("failed checks:")
            for check in self.failed:
                lines.append(f"  [{check.category}] {check.name}: {check.detail[:300]}")
        return "\n".join(lines)
