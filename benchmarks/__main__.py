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
5. Print the table and write it, with the machine, to ``benchmarks/RESULTS.md``.

``python -m benchmarks telemetry`` (or any of ``pages``, ``lifecycle``, ``telemetry``, as
arguments or comma-separated in BENCH_CASES) runs only those steps and prints their rows;
RESULTS.md is written only by a full run, so a partial table never replaces the full one.

Tunables: BENCH_APPS (10000), BENCH_DAYS (180), BENCH_RUNS (7), BENCH_LOAD_SECONDS (4),
BENCH_LOAD_THREADS (8), BENCH_CLONES (9: the lifecycle case's second size is (1+9)×apps).

BENCH_CASES picks groups of cases, comma-separated, out of ``lists`` (the two API lists),
``pages`` (the HTML pages), ``chargeback``, ``lifecycle`` and ``telemetry``; unset or
``all`` runs every one. A partial run prints its table but leaves RESULTS.md alone, so the
published table always comes from one whole run::

    BENCH_CASES=lists DATABASE_URL=postgres://.../appkeeper_bench_mine python -m benchmarks
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
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
CASE_GROUPS = ("lists", "pages", "chargeback", "lifecycle", "telemetry")
TELEMETRY_TARGET = 300  # accepted calls a second on 2 gunicorn workers


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


# --- 2. in-process pages --------------------------------------------------------------

LIST_SQL = """
SELECT a.slug, a.name, a.description, a.kind, t.slug AS team, u.username AS owner,
  a.contact, a.runtime, a.environment, a.criticality, a.handles_pii,
  a.handles_payment_data, a.externally_exposed, a.data_residency,
  COALESCE((SELECT array_agg(r.code ORDER BY r.code) FROM catalog_microapp_regions mr
            JOIN catalog_region r ON r.id = mr.region_id WHERE mr.microapp_id = a.id),
           '{}') AS regions,
  COALESCE((SELECT array_agg(d.slug ORDER BY d.slug) FROM catalog_microapp_depends_on md
            JOIN catalog_microapp d ON d.id = md.to_microapp_id
            WHERE md.from_microapp_id = a.id), '{}') AS depends_on,
  a.sla_availability, a.sla_p95_ms, a.sla_support_hours, a.docs_url, a.runbook_url,
  a.repository_url, a.tags, a.state, a.expires_at, a.last_seen_at, a.went_live_at,
  a.retired_at, a.retired_reason, a.created_at, a.updated_at,
  COUNT(*) OVER () AS total
FROM catalog_microapp a
JOIN catalog_team t ON t.id = a.team_id
JOIN auth_user u ON u.id = a.owner_id
WHERE {where}
ORDER BY a.name, a.id
LIMIT 100
"""


def list_floor(conn, where: str, params: list):
    def run():
        with conn.cursor() as cur:
            cur.execute(LIST_SQL.replace("{where}", where), params)
            names = [c.name for c in cur.description]
            rows = cur.fetchall()
        results = []
        total = 0
        for row in rows:
            item = dict(zip(names, row, strict=True))
            total = item.pop("total")
            item["risk"] = (
                "high"
                if item["handles_pii"] or item["handles_payment_data"] or item["externally_exposed"]
                else "low"
            )
            item["url"] = f"http://testserver/api/v1/apps/{item['slug']}/"
            results.append(item)
        return json.dumps({"count": total, "results": results}, default=str)

    return run


LISTS = [
    ("GET /api/v1/apps/?page_size=100", "", "a.state <> 'retired'", []),
    (
        "GET /api/v1/apps/?page_size=100 (state=active, region=eu-central)",
        "&state=active&region=eu-central",
        "a.state = 'active' AND EXISTS (SELECT 1 FROM catalog_microapp_regions mr "
        "JOIN catalog_region r ON r.id = mr.region_id WHERE mr.microapp_id = a.id "
        "AND r.code = %s)",
        ["eu-central"],
    ),
]
# A normal DRF serializer: readable code is worth the last 30% to the floor.
LIST_TARGET = 2.0


def client_for(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def getter(client, path: str, expect: int = 200):
    def run():
        response = client.get(path)
        assert response.status_code == expect, (path, response.status_code)
        return response

    return run


def bench_lists(url: str) -> None:
    import psycopg

    say("API lists")
    client = client_for("pat")
    conn = psycopg.connect(url, autocommit=True)
    for label, query, where, params in LISTS:
        view = getter(client, f"/api/v1/apps/?page_size=100{query}")
        # A list costs tens of ms: three times the runs for a steadier median.
        median, floor = interleaved(view, list_floor(conn, where, params), runs=3 * RUNS)
        ratio = median / floor
        add(
            label,
            median,
            count_queries(view),
            floor,
            ratio,
            f"≤ {LIST_TARGET:g}×",
            ratio <= LIST_TARGET,
        )
    conn.close()


def bench_html_pages() -> None:
    from django.test import Client

    from catalog.models import MicroApp

    say("HTML pages")
    client = client_for("pat")
    slug = MicroApp.objects.filter(slug__startswith="seed-", state="active").values_list(
        "slug", flat=True
    )[0]
    owner = MicroApp.objects.get(slug=slug).owner
    owner_client = Client()
    owner_client.force_login(owner)
    for label, path, who in [
        ("catalog page /apps/", "/apps/", client),
        (f"app page /apps/{slug}/", f"/apps/{slug}/", client),
        ("dashboard / (owner of ~50 apps)", "/", owner_client),
    ]:
        view = getter(who, path)
        add(label, timed(view), count_queries(view))


def bench_chargeback(url: str) -> None:
    import psycopg
    from django.urls import NoReverseMatch, reverse

    say("chargeback")
    try:
        path = reverse("api:chargeback")
    except NoReverseMatch:
        skip("chargeback quarter by team", "no /api/v1/chargeback/ endpoint yet")
        return
    start, end, quarter = last_full_quarter()
    view = getter(client_for("fin"), f"{path}?period={quarter}&group_by=team")

    from scorecards.management.commands.bench_chargeback import floor_report

    # Never prepared, like Django's client-side-bound queries: after about ten runs a
    # prepared statement switches to a generic plan that guesses 0.5% of the rows for
    # the date range and loses the parallel scan, which would slow the floor down.
    floor_conn = psycopg.connect(url, autocommit=True, prepare_threshold=None)

    def floor_run():
        # The same statement and totals as ``manage.py bench_chargeback``'s floor.
        with floor_conn.cursor() as cur:
            report = floor_report(cur, start, end)
        return json.dumps({"period": quarter, **report}, default=str)

    median, floor = interleaved(view, floor_run)
    floor_conn.close()
    ratio = median / floor
    add(
        f"chargeback {quarter} by team",
        median,
        count_queries(view),
        floor,
        ratio,
        "≤ 1.2×",
        ratio <= 1.2,
    )


def last_full_quarter() -> tuple[date, date, str]:
    today = date.today()
    first_month = 3 * ((today.month - 1) // 3) + 1
    this_start = date(today.year, first_month, 1)
    prev_end = this_start
    prev_start_month = first_month - 3
    year = today.year
    if prev_start_month < 1:
        prev_start_month += 12
        year -= 1
    start = date(year, prev_start_month, 1)
    return start, prev_end, f"{year}-Q{(prev_start_month - 1) // 3 + 1}"


# --- 3. lifecycle jobs ----------------------------------------------------------------


class Rollback(Exception):
    pass


def clone_apps(copies: int) -> int:
    """Insert ``copies`` clones of every seeded app (same dates and states), in SQL."""
    from django.db import connection

    from catalog.models import MicroApp

    columns = [f.column for f in MicroApp._meta.concrete_fields if f.column not in ("id", "slug")]
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        for copy in range(1, copies + 1):
            cursor.execute(
                f"INSERT INTO catalog_microapp (slug, {cols}) "
                f"SELECT slug || '-c{copy}', {cols} FROM catalog_microapp "
                "WHERE slug LIKE 'seed-app-%%' AND slug NOT LIKE '%%-c%%'"
            )
        cursor.execute("ANALYZE catalog_microapp")
    return MicroApp.objects.count()


def bench_lifecycle() -> None:
    from django.db import transaction

    try:
        from lifecycle import tasks
    except ImportError:
        skip("lifecycle jobs", "lifecycle.tasks does not exist yet")
        return
    jobs = [getattr(tasks, n, None) for n in ("send_expiry_reminders", "expire_apps")]
    if not all(jobs):
        skip("lifecycle jobs", "send_expiry_reminders/expire_apps not defined yet")
        return
    from catalog.models import MicroApp

    def run_jobs():
        for job in jobs:
            job.run()

    results = []
    for copies in (0, CLONES):
        try:
            with transaction.atomic():
                n = clone_apps(copies) if copies else MicroApp.objects.count()
                say(f"lifecycle jobs over {n} apps (rolled back)")
                start = time.perf_counter()
                queries = count_queries(run_jobs)
                elapsed = (time.perf_counter() - start) * 1000
                results.append((n, elapsed, queries))
                raise Rollback
        except Rollback:
            pass
    # The rolled-back clones leave ~90k dead rows behind; without a vacuum the next run's
    # list cases and their floors would scan them.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_microapp")
    (n1, t1, q1), (n2, t2, q2) = results
    add(f"send_expiry_reminders + expire_apps, {n1} apps", t1, q1)
    add(
        f"send_expiry_reminders + expire_apps, {n2} apps",
        t2,
        q2,
        floor=f"{q1} queries at {n1}",
        target="queries flat",
        ok=q2 <= q1,
    )


# --- 4. telemetry under gunicorn ------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return port if port != 8000 else free_port()


def bench_telemetry(url: str) -> None:
    from django.urls import NoReverseMatch, reverse

    from catalog.models import MicroApp

    try:
        path = reverse("api:telemetry")
    except NoReverseMatch:
        skip("telemetry POSTs", "no telemetry endpoint yet")
        return
    apps = list(
        MicroApp.objects.filter(slug__startswith="seed-", state="active")
        .exclude(ingestion_secret="")
        .prefetch_related("regions")[:200]
    )
    targets = [(a.slug, a.ingestion_secret, a.regions.all()[0].code) for a in apps]
    queries = telemetry_queries(path, targets[0], (date.today() - timedelta(days=1)).isoformat())
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "APPKEEPER_BENCH_ENDPOINTS": "true",
        "APPKEEPER_THROTTLE_TELEMETRY": "10000000/min",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        from benchmarks import load

        day = (date.today() - timedelta(days=1)).isoformat()
        rates = {"telemetry": [], "bare": []}
        for _ in range(3):
            for kind, target_path in (("bare", "/bench/noop"), ("telemetry", path)):
                result = load.run_in_process(
                    port, target_path, targets, day, LOAD_SECONDS, LOAD_THREADS
                )
                if result["errors"]:
                    say(f"    {kind}: {result['errors']} non-2xx answers, e.g. {result['sample']}")
                rates[kind].append(result["ok"] / result["seconds"])
        telemetry = statistics.median(rates["telemetry"])
        bare = statistics.median(rates["bare"])
        # The target is absolute (accepted calls a second); the ratio to the bare view on
        # the same server is reported beside it to tell the code's cost from the load.
        add(
            "signed telemetry POSTs, gunicorn 2 workers",
            telemetry,
            queries,
            bare,
            telemetry / bare,
            f"≥ {TELEMETRY_TARGET} req/s",
            telemetry >= TELEMETRY_TARGET,
            unit="req/s",
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def telemetry_queries(path: str, target: tuple[str, str, str], day: str) -> int:
    """The queries of one accepted call with one report, in process (warmed up once)."""
    from django.test import Client

    from benchmarks.load import signed

    slug, secret, region = target
    report = {"date": day, "region": region, "requests": 1, "errors": 0, "cost": "0.50"}
    body = json.dumps({"app": slug, "reports": [report]}).encode()
    client = Client()

    def post():
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed(secret, body).items()
        }
        response = client.post(path, body, content_type="application/json", **headers)
        assert response.status_code == 202, response.content

    post()
    return count_queries(post)


def wait_for(port: int) -> None:
    import http.client

    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


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


def main() -> None:
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        return
    cases = selected_cases(sys.argv[1:])
    url = prepare_database()
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
    text = table()
    print(text)
    if cases == set(CASE_GROUPS):
        write_results(machine(), text)
        say("written to benchmarks/RESULTS.md")
    else:
        say(f"only {', '.join(sorted(cases))}: benchmarks/RESULTS.md left as it was")


if __name__ == "__main__":
    main()
