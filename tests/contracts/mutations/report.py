"""Run the catalogue over real specs and count, per oasdiff level, what the engine caught."""

from __future__ import annotations

import json
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from contracts import load_document
from contracts.openapi_diff import diff_documents

from .catalogue import BREAKING, COMPATIBLE, Mutation
from .sites import Node, Spec

DATA = Path(__file__).resolve().parents[2] / "data"
RULE_LEVELS_FILE = DATA / "oasdiff-rules" / "rules.json"
SPECS = {
    "discord": DATA / "real-pairs" / "discord-2026-07-18.json",
    "stripe": DATA / "openapi-real" / "stripe-2021-06-07.json",
    "openai": DATA / "real-pairs" / "openai-2026-08-21.json",
}
DEFAULT_SPECS = ("discord", "stripe", "openai")
# A compatible edit without an oasdiff rule is reported on a row of its own.
LEVEL_ROWS = ("ERR", "WARN", "INFO", "none")
_SEVERITY = {"ERR": 0, "WARN": 1, "INFO": 2}


def rule_levels() -> dict[str, str]:
    rules = json.loads(RULE_LEVELS_FILE.read_text(encoding="utf-8"))["rules"]
    return {rule["id"]: rule["level"] for rule in rules}


@dataclass
class Outcome:
    spec: str
    mutation: Mutation
    level: str  # oasdiff's level of the expected rule, or "none"
    applied: bool
    reported: dict[str, str] = field(default_factory=dict)  # id -> most severe level
    error: str = ""

    @property
    def breaking(self) -> bool:
        return self.level in ("ERR", "WARN")

    @property
    def hit(self) -> bool:
        if not self.applied or self.error:
            return False
        if self.mutation.rule is None:
            return not self.false_err
        return self.reported.get(self.mutation.rule) == self.level

    @property
    def false_err(self) -> bool:
        return not self.breaking and "ERR" in self.reported.values()

    def instead(self) -> str:
        """What was reported instead of the expected rule, most severe first."""
        if self.error:
            return self.error
        ranked = sorted(self.reported.items(), key=lambda item: (_SEVERITY[item[1]], item[0]))
        return ", ".join(f"{rule} {level}" for rule, level in ranked[:4]) or "nothing"


@dataclass
class MutationReport:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def figures(self, spec: str | None = None) -> dict[str, dict[str, int]]:
        """Per level row: kinds tried, applied (a place was found), hit, missed, false ERR."""
        out = {}
        for level in LEVEL_ROWS:
            rows = [o for o in self.outcomes if o.level == level and spec in (None, o.spec)]
            applied = [o for o in rows if o.applied]
            out[level] = {
                "kinds": len({(o.mutation.rule, o.mutation.what) for o in rows}),
                "applied": len(applied),
                "hit": sum(o.hit for o in applied),
                "missed": sum(not o.hit for o in applied),
                "false_err": sum(o.false_err for o in applied),
            }
        return out

    def missed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.applied and not o.hit]

    def unplaced(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.applied]


def load_spec(name: str) -> Spec:
    document = load_document(SPECS[name].read_bytes())
    return Spec(name, document.data or {})


def focused(base: Node, revision: Node) -> tuple[Node, Node]:
    """Both documents cut down to the paths the edit touched, components kept whole.

    An edit copies only what it changes, so an untouched path is the very same object on
    both sides and can only diff to nothing; skipping the others makes a Stripe-sized diff
    a hundred times cheaper, which is what lets the test run every kind on every spec.
    """
    old, new = base.get("paths") or {}, revision.get("paths") or {}
    touched = {p for p in old.keys() | new.keys() if old.get(p) is not new.get(p)}
    return (
        {**base, "paths": {p: v for p, v in old.items() if p in touched}},
        {**revision, "paths": {p: v for p, v in new.items() if p in touched}},
    )


def run_one(
    spec: Spec, mutation: Mutation, levels: dict[str, str], *, focus: bool = False
) -> Outcome:
    level = levels[mutation.rule] if mutation.rule else "none"
    made = mutation.make(spec)
    if made is None:
        return Outcome(spec.name, mutation, level, applied=False)
    outcome = Outcome(spec.name, mutation, level, applied=True)
    try:
        changes = diff_documents(*(focused(*made) if focus else made))
    except Exception as exc:  # noqa: BLE001 - a crash is a result to report, not to hide
        outcome.error = f"{type(exc).__name__}: {exc}"
        return outcome
    for change in changes:
        known = outcome.reported.get(change["id"])
        if known is None or _SEVERITY[change["level"]] < _SEVERITY[known]:
            outcome.reported[change["id"]] = change["level"]
    return outcome


def run(names: tuple[str, ...] = DEFAULT_SPECS, *, focus: bool = False) -> MutationReport:
    """Every mutation applied alone to each named spec; with ``focus``, each diff is of
    the touched paths only (see :func:`focused`)."""
    levels = rule_levels()
    report = MutationReport()
    started = time.perf_counter()
    for name in names:
        spec = load_spec(name)
        report.outcomes += [run_one(spec, m, levels, focus=focus) for m in (*BREAKING, *COMPATIBLE)]
    report.seconds = time.perf_counter() - started
    return report


def peak_memory_mb(name: str) -> float:
    """Peak Python allocations (tracemalloc) to load one spec and diff it against one edit
    of it (the first kind, a removed path: the diff still walks every other operation).
    Only that much runs under tracemalloc, which slows a whole run several times over."""
    tracemalloc.start()
    try:
        spec = load_spec(name)
        run_one(spec, BREAKING[0], rule_levels())
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def _percent(hit: int, applied: int) -> str:
    return f"{100 * hit / applied:.0f} %" if applied else "–"


def table(report: MutationReport, names: tuple[str, ...]) -> str:
    """The Markdown table the README shows: one row per spec and level, then the total."""
    lines = [
        "| spec | level | kinds | applied | hit (exact id, level) | missed | recall | false ERR |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec in (*names, None):
        for level, row in report.figures(spec).items():
            if not row["kinds"]:
                continue
            false_err = str(row["false_err"]) if level in ("INFO", "none") else "–"
            lines.append(
                f"| {spec or '**all**'} | {level} | {row['kinds']} | {row['applied']}"
                f" | {row['hit']} | {row['missed']} | {_percent(row['hit'], row['applied'])}"
                f" | {false_err} |"
            )
    return "\n".join(lines)


def per_kind(report: MutationReport, names: tuple[str, ...]) -> str:
    """One line per kind: its rule, oasdiff's level and, per spec, hit / MISS / no place."""
    marks: dict[tuple[str | None, str], dict[str, str]] = {}
    levels: dict[tuple[str | None, str], str] = {}
    for o in report.outcomes:
        key = (o.mutation.rule, o.mutation.what)
        levels[key] = o.level
        mark = "hit" if o.hit else ("MISS" if o.applied else "-")
        marks.setdefault(key, {})[o.spec] = mark
    lines = [f"{'level':5} {'rule':45} " + " ".join(f"{n:8}" for n in names) + " edit"]
    for (rule, what), by_spec in marks.items():
        cells = " ".join(f"{by_spec.get(n, ''):8}" for n in names)
        lines.append(f"{levels[(rule, what)]:5} {rule or '(no rule)':45} {cells} {what}")
    return "\n".join(lines)


def details(report: MutationReport) -> str:
    """Each miss with what was reported instead (a crash shows its exception)."""
    lines = ["misses (expected → reported instead):"]
    lines += [
        f"  {o.spec:8} {o.level:4} {o.mutation.rule or '(no rule)'} [{o.mutation.what}]"
        f" → {o.instead()}"
        for o in report.missed()
    ] or ["  none"]
    return "\n".join(lines)
