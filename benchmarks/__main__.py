"""``python -m benchmarks``: one table of medians, query counts and ratios to floors.

1. Point Django at PostgreSQL (DATABASE_URL or the appkeeper_bench default); create the
   database if missing, migrate, and seed it (``seed_demo``) if it has no apps.
2. In process, through Django's test Client: the API app list (unfiltered and filtered)
   against the same rows from one raw SQL query serialised with ``json.dumps`` (timed
   alternately, 3 × BENCH_RUNS each, like chargeback against its floor); the catalog
   page, an app page and the dashboard; chargeback by team for a quarter against a raw
   ``GROUP BY`` (skipped with a reason when the endpoint does not exist).
3. The daily lifecycle jobs (reminders + expiry) at the seeded size and with 90k cloned apps
   more, each inside a transaction that is rolled back: the query count must not grow.
4. Signed telemetry POSTs per second under gunicorn (2 workers), target ≥ 300 accepted calls
   a second, with the ratio to a bare 204 view on the same server; driven from a separate
   process on 127.0.0.1.
5. The blast radius: the seeded apps' graph replaced, inside a transaction that is rolled
   back, by 30,000 edges with one provider 500 dependents and 5 levels deep; the walk
   (``catalog.impact.dependents``, median and p95 of 50 runs, target < 50 ms), the
   impact API and the blast radius page (see benchmarks/impact.py for its tunables).
6. The contract engine (no database): load, validate cold and cached, and diff the Stripe
   pair, OpenAI's openapi.yaml as is and grown to 4 MB, and GitHub's GraphQL schema, in
   CPU seconds against a 2 s target (see benchmarks/contracts.py).
7. Print the table and write it, with the machine, to ``benchmarks/RESULTS.md``.

``python -m benchmarks telemetry`` (or any of ``pages``, ``lifecycle``, ``telemetry``,
``impact``, ``contracts``, as arguments or comma-separated in BENCH_CASES) runs only those steps and
prints their rows;
RESULTS.md is written only by a full run, so a partial table never replaces the full one.

Tunables: BENCH_APPS (10000), BENCH_DAYS (180), BENCH_RUNS (7), BENCH_LOAD_SECONDS (4),
BENCH_LOAD_THREADS (8), BENCH_CLONES (9: the lifecycle case's second size is (1+9)×apps).

BENCH_CASES picks groups of cases, comma-separated, out of ``lists`` (the two API lists),
``pages`` (the HTML pages), ``chargeback``, ``lifecycle``, ``telemetry``, ``impact`` and
``contracts`` (the only one without a database: run alone, it needs no PostgreSQL);
unset or ``all`` runs every one. A partial run prints its table but leaves RESULTS.md alone, so the
published table always comes from one whole run::

    BENCH_CASES=lists DATABASE_URL=postgres://.../appkeeper_bench_mine python -m benchmarks
"""

from __future__ import annotations

import os
import sys

from benchmarks.contracts import bench_contracts
from benchmarks.harness import machine, prepare_database, say, table, write_results
from benchmarks.impact import bench_impact
from benchmarks.jobs import bench_lifecycle
from benchmarks.telemetry import bench_telemetry
from benchmarks.web import bench_chargeback, bench_html_pages, bench_lists

CASE_GROUPS = ("lists", "pages", "chargeback", "lifecycle", "telemetry", "impact", "contracts")
DATABASE_FREE = {"contracts"}


def selected_cases(argv: list[str]) -> set[str]:
    """The case groups named on the command line or in BENCH_CASES (every group when none
    is, or ``all``); exits with the valid names on an unknown one."""
    names = {n.strip() for arg in argv for n in arg.split(",") if n.strip()}
    names = names or {n.strip() for n in os.environ.get("BENCH_CASES", "").split(",") if n.strip()}
    if not names or names == {"all"}:
        return set(CASE_GROUPS)
    unknown = sorted(names - set(CASE_GROUPS))
    if unknown:
        sys.exit(f"unknown benchmark case(s) {', '.join(unknown)}; use {', '.join(CASE_GROUPS)}")
    return names


def main() -> None:
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        return
    cases = selected_cases(sys.argv[1:])
    url = prepare_database() if cases - DATABASE_FREE else ""
    if "lists" in cases:
        bench_lists(url)
    if "pages" in cases:
        bench_html_pages()
    if "chargeback" in cases:
        bench_chargeback(url)
    if "lifecycle" in cases:
        bench_lifecycle()
    if "telemetry" in cases:
        bench_telemetry(url)
    if "impact" in cases:
        bench_impact()
    if "contracts" in cases:
        bench_contracts()
    text = table()
    print(text)
    if cases == set(CASE_GROUPS):
        write_results(machine(), text)
        say("written to benchmarks/RESULTS.md")
    else:
        say(f"only {', '.join(sorted(cases))}: benchmarks/RESULTS.md left as it was")


if __name__ == "__main__":
    main()
