"""The benchmark harness: settings from the environment, the database, timing, and the
table of results."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/appkeeper_bench"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
APPS = int(os.environ.get("BENCH_APPS", "10000"))
DAYS = int(os.environ.get("BENCH_DAYS", "180"))
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "4"))
LOAD_THREADS = int(os.environ.get("BENCH_LOAD_THREADS", "8"))
CLONES = int(os.environ.get("BENCH_CLONES", "9"))


@dataclass
class Row:
    case: str
    median: str
    queries: str
    floor: str
    ratio: str
    target: str
    verdict: str


ROWS: list[Row] = []


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- 1. database ----------------------------------------------------------------------


def prepare_database() -> str:
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        sys.exit(f"benchmarks need PostgreSQL; DATABASE_URL is {parsed.scheme}://")
    import psycopg

    name = parsed.path.strip("/")
    admin = url.replace(parsed.path, "/postgres", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            say(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from catalog.models import MicroApp

    if not MicroApp.objects.filter(slug__startswith="seed-").exists():
        say(f"seeding {APPS} apps × {DAYS} days (once)")
        call_command("seed_demo", apps=APPS, days=DAYS, stdout=sys.stderr)
        # A freshly bulk-loaded database has no planner statistics until autovacuum gets
        # to it; a production database has them. Measure the steady state, not the race.
        from django.db import connection

        say("analysing the seeded tables")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return url


# --- helpers --------------------------------------------------------------------------


def timed(fn, runs: int = RUNS) -> float:
    """Median wall time in ms of ``runs`` calls after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def interleaved(view, floor, runs: int = RUNS) -> tuple[float, float]:
    """Median wall times in ms of ``view`` and ``floor``, timed alternately (view, floor,
    view, ...) after one warm-up each: timed in two blocks, their ratio would mostly
    measure the machine's load drifting between the blocks."""
    view(), floor()
    samples: dict = {view: [], floor: []}
    for _ in range(runs):
        for fn, times in samples.items():
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples[view]), statistics.median(samples[floor])


def count_queries(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


def add(case, median, queries, floor=None, ratio=None, target=None, ok=None, unit="ms"):
    ROWS.append(
        Row(
            case=case,
            median=f"{median:.1f} {unit}" if isinstance(median, float) else str(median),
            queries=str(queries) if queries is not None else "–",
            floor=f"{floor:.1f} {unit}" if isinstance(floor, float) else (floor or "–"),
            ratio=f"{ratio:.2f}×" if ratio is not None else "–",
            target=target or "–",
            verdict="–" if ok is None else ("ok" if ok else "MISS"),
        )
    )
    say(f"  {case}: {ROWS[-1].median}, {ROWS[-1].queries} queries, ratio {ROWS[-1].ratio}")


def skip(case: str, reason: str) -> None:
    ROWS.append(Row(case, "skipped", "–", "–", "–", "–", reason))
    say(f"  {case}: skipped ({reason})")


# --- 5. report ------------------------------------------------------------------------


def machine() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    from catalog.models import MicroApp
    from lifecycle.models import UsageReport

    return {
        "nproc": os.cpu_count(),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "postgres": pg,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "apps": MicroApp.objects.count(),
        "usage_rows": UsageReport.objects.count(),
    }


def table() -> str:
    headers = ["case", "median", "queries", "floor", "ratio", "target", "verdict"]
    rows = [[r.case, r.median, r.queries, r.floor, r.ratio, r.target, r.verdict] for r in ROWS]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def write_results(info: dict, text: str) -> None:
    path = Path(__file__).parent / "RESULTS.md"
    notes_marker = "<!-- notes -->"
    notes = ""
    if path.exists() and notes_marker in path.read_text():
        notes = path.read_text().split(notes_marker, 1)[1]
    body = (
        "# Benchmark results\n\n"
        f"`make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n"
        f"Machine: {info['nproc']} CPUs, {info['ram']} RAM, PostgreSQL {info['postgres']}, "
        f"Python {info['python']} ({info['platform']}).\n"
        f"Data: {info['apps']} apps, {info['usage_rows']} usage rows "
        f"(`seed_demo --apps {APPS} --days {DAYS}`). Medians of {RUNS} runs after a warm-up "
        f"({3 * RUNS} for the lists).\n\n"
        f"{text}\n\n{notes_marker}{notes}"
    )
    path.write_text(body if body.endswith("\n") else body + "\n")
