"""In-process cases through Django's test client: the API lists against raw SQL, the HTML
pages, and chargeback against its GROUP BY."""

from __future__ import annotations

import json
from datetime import date

from benchmarks.harness import RUNS, add, count_queries, interleaved, say, skip, timed

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
