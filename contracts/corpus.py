"""Run the oasdiff-derived corpus (``cases.json``) through the diff engine.

Each case names a base and a revision fixture and the oasdiff rule ids (with levels) its
test expects. A case is classified by the most severe expected level; it is *hit* when
every expected id of that level is reported (at any level); an INFO-only case counts as
*reported as ERR* when one of its expected ids comes out at ERR — the mistake that would
block a harmless change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .documents import parse_openapi_text
from .openapi_diff import diff_documents

__all__ = ["CaseResult", "CorpusReport", "run_corpus"]

_ORDER = ("ERR", "WARN", "INFO")


@dataclass
class CaseResult:
    """The outcome of one case."""

    test: str
    level: str  # ERR | WARN | INFO | NONE
    expected: list[str]
    reported: dict[str, str]  # id -> most severe level reported
    hit: bool
    info_as_err: bool = False
    error: str = ""
    # ERR ids reported that no case on the same fixture pair expects: likely false alarms.
    unexplained_err: list[str] = field(default_factory=list)


@dataclass
class CorpusReport:
    """Per-level figures plus every case result."""

    cases: list[CaseResult] = field(default_factory=list)

    def figures(self) -> dict[str, dict[str, int]]:
        """``{level: {"cases", "hit", "missed", "info_as_err"}}``."""
        out: dict[str, dict[str, int]] = {}
        for level in (*_ORDER, "NONE"):
            rows = [c for c in self.cases if c.level == level]
            out[level] = {
                "cases": len(rows),
                "hit": sum(c.hit for c in rows),
                "missed": sum(not c.hit for c in rows),
                "info_as_err": sum(c.info_as_err for c in rows),
                "unexplained_err": sum(bool(c.unexplained_err) for c in rows),
            }
        return out

    def missed(self, level: str | None = None) -> list[CaseResult]:
        return [c for c in self.cases if not c.hit and (level is None or c.level == level)]


def _case_level(levels: dict[str, Any], expected: list[str]) -> str:
    present = {levels.get(i) for i in expected}
    return next((lvl for lvl in _ORDER if lvl in present), "NONE")


def run_corpus(folder: Path | str) -> CorpusReport:
    """Run every case of ``folder/cases.json``; fixtures are parsed once each."""
    folder = Path(folder)
    spec = json.loads((folder / "cases.json").read_text(encoding="utf-8"))
    parsed: dict[str, dict[str, Any]] = {}

    def load(name: str) -> dict[str, Any]:
        if name not in parsed:
            parsed[name] = parse_openapi_text((folder / name).read_text(encoding="utf-8"))
        return parsed[name]

    expected_by_pair: dict[tuple[str, str], set[str]] = {}
    for case in spec["cases"]:
        pair = (case["base"], case["revision"])
        expected_by_pair.setdefault(pair, set()).update(case.get("expected_ids") or [])

    report = CorpusReport()
    for case in spec["cases"]:
        levels = case.get("levels") or {}
        expected = list(case.get("expected_ids") or [])
        level = _case_level(levels, expected)
        try:
            changes = diff_documents(load(case["base"]), load(case["revision"]))
            error = ""
        except Exception as exc:  # noqa: BLE001 - one broken case must not hide the rest
            changes, error = [], f"{type(exc).__name__}: {exc}"
        reported: dict[str, str] = {}
        for change in changes:
            old = reported.get(change["id"])
            if old is None or _ORDER.index(change["level"]) < _ORDER.index(old):
                reported[change["id"]] = change["level"]
        wanted = [i for i in expected if levels.get(i) == level] if level != "NONE" else []
        hit = not error and all(i in reported for i in wanted)
        info_as_err = level == "INFO" and any(reported.get(i) == "ERR" for i in expected)
        report.cases.append(
            CaseResult(
                test=case["test"],
                level=level,
                expected=expected,
                reported=reported,
                hit=hit,
                info_as_err=info_as_err,
                error=error,
                unexplained_err=sorted(
                    i
                    for i, lvl in reported.items()
                    if lvl == "ERR" and i not in expected_by_pair[(case["base"], case["revision"])]
                ),
            )
        )
    return report
