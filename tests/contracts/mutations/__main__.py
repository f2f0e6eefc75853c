"""``python -m tests.contracts.mutations [--focus] [spec ...]``: the recall table, every
miss with what was reported instead, and memory. Each edit is diffed over the whole spec;
``--focus`` diffs only the paths it touched, as the test does (same figures, a minute
less on Stripe)."""

from __future__ import annotations

import resource
import sys

from .catalogue import BREAKING, COMPATIBLE
from .report import DEFAULT_SPECS, SPECS, details, peak_memory_mb, per_kind, run, table


def main(argv: list[str]) -> None:
    focus = "--focus" in argv
    names = tuple(a for a in argv if a != "--focus") or DEFAULT_SPECS
    unknown = [name for name in names if name not in SPECS]
    if unknown:
        sys.exit(f"unknown spec(s) {', '.join(unknown)}; use {', '.join(SPECS)}")
    report = run(names, focus=focus)
    print(f"{len(BREAKING)} breaking and {len(COMPATIBLE)} compatible kinds on {', '.join(names)}")
    print()
    print(table(report, names))
    print()
    print(per_kind(report, names))
    print()
    print(details(report))
    print()
    print(
        f"{len(report.outcomes)} edits diffed in {report.seconds:.1f} s;"
        f" process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    for name in names:
        print(f"peak (tracemalloc) to load {name} and diff one edit: {peak_memory_mb(name):.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
