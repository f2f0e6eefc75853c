"""The operations page: is Appkeeper itself healthy, and what does the fleet look like?

For the platform team only. Everything on it is computed in a fixed number of queries,
whatever the size of the fleet:

1. Beat tasks: the newest run of each scheduled task (one query over JobRun).
2. Queue depth: Redis ``LLEN`` of the Celery queue, or the files in the file-system
   transport's folder; "unknown" for any other broker.
3. Telemetry freshness: live apps bucketed by the age of their last heartbeat (one
   aggregate query), drawn as an inline SVG bar chart.
4. Integration topology: the ``depends_on`` graph of live apps that take part in one,
   with the calls their telemetry reported in the observed-calls window (three queries),
   laid out in layers server-side and drawn as SVG: declared edges solid, observed-only
   edges dashed.
5. Orphaned apps: how many live apps lost their owner with nobody to take over, and the
   longest waiting (two queries).
6. Backstage sources: each one's last run and its errors (one query).
7. Integrations: open integration alerts (a refused Teams webhook, a revoked Slack token)
   and the outbox's deliveries of the last 24 hours per channel (two queries).
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from catalog import permissions
from catalog.choices import AppState
from catalog.models import BackstageSource, MicroApp
from core import charts
from core.charts import GraphNode as Node
from core.charts import layered_layout
from core.models import JobRun
from lifecycle.observed import observed_edges, window_days
from messaging.health import integrations

# The topology picture stays readable (and cheap) up to this many apps; beyond it the page
# says how many were left out.
TOPOLOGY_LIMIT = 300
FRESHNESS_BUCKETS = ("< 1 h", "< 24 h", "< 7 d", "older", "never")


# --- 1. beat tasks --------------------------------------------------------------------


def beat_tasks() -> list[dict]:
    """Each scheduled task (and any other task that ran) with its newest run and outcome."""
    from config.celery import app as celery_app

    schedule = {entry["task"]: key for key, entry in celery_app.conf.beat_schedule.items()}
    latest_ids = (
        JobRun.objects.values("task")
        .annotate(
            latest=Max("pk"),
            last_success=Max("finished_at", filter=Q(outcome=JobRun.Outcome.SUCCESS)),
        )
        .order_by()
    )
    by_task = {row["task"]: row for row in latest_ids}
    runs = JobRun.objects.in_bulk([row["latest"] for row in by_task.values()])
    rows = []
    for task in sorted(set(schedule) | set(by_task)):
        info = by_task.get(task)
        rows.append(
            {
                "task": task,
                "schedule": schedule.get(task, ""),
                "run": runs.get(info["latest"]) if info else None,
                "last_success": info["last_success"] if info else None,
            }
        )
    return rows


# --- 2. queue depth -------------------------------------------------------------------


def queue_depth(queue: str = "celery") -> int | None:
    """Messages waiting in the default queue, or None when the broker cannot tell us."""
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            # One try within the Redis timeout: the page shows "unknown" rather than
            # waiting out redis-py's default retries on an unreachable broker.
            timeout = settings.APPKEEPER_REDIS_TIMEOUT_SECONDS
            client = redis.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
            try:
                return int(client.llen(queue))
            finally:
                client.close()
        if url.startswith("filesystem://"):
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""))
            if not folder.is_dir():
                return 0
            return sum(1 for p in folder.iterdir() if p.suffix == ".msg")
    except Exception:
        return None
    return None


# --- 3. telemetry freshness -----------------------------------------------------------


def telemetry_freshness() -> list[dict]:
    """Live apps by age of their last heartbeat, in FRESHNESS_BUCKETS order (one query)."""
    now = timezone.now()
    hour, day, week = (now - timedelta(hours=1), now - timedelta(days=1), now - timedelta(days=7))
    counts = MicroApp.objects.live().aggregate(
        b0=Count("pk", filter=Q(last_seen_at__gte=hour)),
        b1=Count("pk", filter=Q(last_seen_at__lt=hour, last_seen_at__gte=day)),
        b2=Count("pk", filter=Q(last_seen_at__lt=day, last_seen_at__gte=week)),
        b3=Count("pk", filter=Q(last_seen_at__lt=week)),
        b4=Count("pk", filter=Q(last_seen_at__isnull=True)),
    )
    values = [counts[f"b{i}"] for i in range(len(FRESHNESS_BUCKETS))]
    bars = charts.scaled_bars(
        list(zip(FRESHNESS_BUCKETS, values, strict=True)), length=360, row_height=30, top=8
    )
    for index, bar in enumerate(bars):
        bar["css"] = f"bucket-{index}"
    return bars


# --- 4. topology ----------------------------------------------------------------------


# How an edge is drawn: declared and seen called, declared only, or called undeclared.
EDGE_KINDS = ("confirmed", "declared", "observed")


def topology() -> dict:
    """Live apps with a declared or an observed dependency edge, laid out for the SVG
    picture (three queries)."""
    through = MicroApp.depends_on.through
    declared = set(
        through.objects.exclude(from_microapp__state=AppState.RETIRED)
        .exclude(to_microapp__state=AppState.RETIRED)
        .values_list("from_microapp_id", "to_microapp_id")
    )
    observed = set(observed_edges())
    edge_rows = sorted(declared | observed)
    ids = sorted({pk for edge in edge_rows for pk in edge})
    total = len(ids)
    ids = set(ids[:TOPOLOGY_LIMIT])
    nodes = {
        pk: Node(pk=pk, slug=slug, state=state)
        for pk, slug, state in MicroApp.objects.filter(pk__in=ids)
        .values_list("pk", "slug", "state")
        .order_by()
    }
    edges = [(a, b) for a, b in edge_rows if a in nodes and b in nodes]
    width, height = layered_layout(nodes, edges)
    box_w, box_h = 160, 24
    lines = []
    counts = dict.fromkeys(EDGE_KINDS, 0)
    for source, target in edges:
        a, b = nodes[source], nodes[target]
        # Arrow from the dependent (right) to its dependency (left).
        x1, y1 = a.x, a.y + box_h / 2
        x2, y2 = b.x + box_w, b.y + box_h / 2
        if a.layer <= b.layer:  # a back edge of a cycle: draw it as a curve below
            path = f"M{x1},{y1} C{x1 - 40},{y1 + 40} {x2 + 40},{y2 + 40} {x2},{y2}"
        else:
            mid = (x1 + x2) / 2
            path = f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
        if (source, target) not in declared:
            kind = "observed"
        elif (source, target) in observed:
            kind = "confirmed"
        else:
            kind = "declared"
        counts[kind] += 1
        lines.append({"d": path, "kind": kind, "title": f"{a.slug} → {b.slug} ({kind})"})
    return {
        "nodes": sorted(nodes.values(), key=lambda n: (n.layer, n.y)),
        "edges": lines,
        "counts": counts,
        "observed_days": window_days(),
        "width": math.ceil(width),
        "height": math.ceil(height),
        "box_w": box_w,
        "box_h": box_h,
        "total": total,
        "shown": len(nodes),
    }


# --- 5. orphaned apps ------------------------------------------------------------------

ORPHANS_SHOWN = 5


def orphaned_apps() -> dict:
    """The live apps waiting for a new owner: the count and the longest waiting."""
    waiting = MicroApp.objects.live().filter(orphaned_at__isnull=False)
    return {
        "count": waiting.count(),
        "oldest": list(
            waiting.select_related("team", "owner").order_by("orphaned_at", "pk")[:ORPHANS_SHOWN]
        ),
    }


# --- 6. Backstage sources ---------------------------------------------------------------


def backstage_sources() -> list[BackstageSource]:
    """Each Backstage sync source in use, with how its last run went (one query)."""
    return list(
        BackstageSource.objects.filter(retired_at__isnull=True).only(
            "name", "enabled", "last_status", "last_checked_at", "last_error"
        )
    )


# --- the page -------------------------------------------------------------------------


@login_required
def ops_page(request: HttpRequest) -> HttpResponse:
    if not permissions.can_see_ops(request.user):
        raise PermissionDenied("The operations page is for the platform team.")
    context = {
        "tasks": beat_tasks(),
        "queue_depth": queue_depth(),
        "broker": settings.CELERY_BROKER_URL.split("://", 1)[0],
        "freshness": telemetry_freshness(),
        "heartbeat_hours": settings.APPKEEPER_HEARTBEAT_HOURS,
        "topology": topology(),
        "orphaned": orphaned_apps(),
        "backstage_sources": backstage_sources(),
        "integrations": integrations(),
        "now": timezone.now(),
    }
    return render(request, "ops/ops.html", context)
