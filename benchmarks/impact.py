"""The blast radius walk on a densely connected fleet, inside a transaction that is rolled
back.

The seeded apps get a dependency graph as dense as a large company's (BENCH_IMPACT_EDGES,
30,000 edges, about three calls per app) in place of the seed's sparse one, and one
provider whose blast radius is BENCH_IMPACT_LEVELS (5) levels deep and holds
BENCH_IMPACT_DEPENDENTS (500) apps: each level about twice the one before, every app
calling one to three apps of the level nearer the provider or of its own. The other edges
join the rest of the fleet among itself (and the radius to it), never into the radius, so
the walk must find exactly those 500 apps at their exact depths; the benchmark checks it
does before it reports a time.

Then the walk's query (``catalog.impact.dependent_rows``) and the whole of
``catalog.impact.dependents`` (the walk, then the apps with their teams and owners, and
the declared uses) are timed BENCH_IMPACT_RUNS (50) times each (median and p95, target
< 50 ms), and so are the API answer and the HTML page over the same radius.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from dataclasses import dataclass

from benchmarks.harness import add, count_queries, say

EDGES = int(os.environ.get("BENCH_IMPACT_EDGES", "30000"))
DEPENDENTS = int(os.environ.get("BENCH_IMPACT_DEPENDENTS", "500"))
LEVELS = int(os.environ.get("BENCH_IMPACT_LEVELS", "5"))
IMPACT_RUNS = int(os.environ.get("BENCH_IMPACT_RUNS", "50"))
WALK_TARGET_MS = 50.0


class Rollback(Exception):
    pass


@dataclass
class Fleet:
    provider: int
    levels: list[list[int]]  # the app ids at each distance from the provider, 1 first
    edges: int


@dataclass
class Timing:
    median: float
    p95: float
    queries: int


def level_sizes(dependents: int, levels: int) -> list[int]:
    """``dependents`` split over ``levels``, each level about twice the one before."""
    if dependents < levels:
        raise ValueError(f"{dependents} dependents cannot fill {levels} levels")
    weights = [2**level for level in range(levels)]
    sizes = [max(1, dependents * w // sum(weights)) for w in weights]
    sizes[-1] += dependents - sum(sizes)
    return sizes


def lay_out(
    live_ids: list[int],
    all_ids: list[int],
    *,
    edges: int = EDGES,
    dependents: int = DEPENDENTS,
    levels: int = LEVELS,
    seed: int = 20261130,
) -> Fleet:
    """Replace the dependency graph by the benchmark's: a provider and its radius from
    ``live_ids`` (apps the walk counts), ``edges`` edges in all. Call it inside a
    transaction that is rolled back."""
    from catalog.models import Dependency

    rng = random.Random(seed)
    chosen = rng.sample(live_ids, dependents + 1)
    provider, radius = chosen[0], chosen[1:]
    taken = set(chosen)
    rest = [pk for pk in all_ids if pk not in taken]
    by_level: list[list[int]] = [[provider]]
    start = 0
    for size in level_sizes(dependents, levels):
        by_level.append(radius[start : start + size])
        start += size
    pairs: set[tuple[int, int]] = set()
    for depth in range(1, levels + 1):
        nearer = by_level[depth - 1]
        for index, app in enumerate(by_level[depth]):
            pairs.add((app, rng.choice(nearer)))  # what puts it at this depth
            same_level = by_level[depth][:index]  # earlier ones only: no loops
            for _ in range(rng.randint(0, 2)):
                pool = same_level if same_level and rng.random() < 0.3 else nearer
                pairs.add((app, rng.choice(pool)))
    if len(pairs) > edges:
        raise ValueError(f"the radius alone needs {len(pairs)} edges, more than {edges}")
    if len(rest) < 2:
        raise ValueError("no apps left outside the radius for the other edges")
    while len(pairs) < edges:
        caller, callee = rng.choice(all_ids), rng.choice(rest)
        if caller != callee:
            pairs.add((caller, callee))
    Dependency.objects.all().delete()
    Dependency.objects.bulk_create(
        [Dependency(from_microapp_id=a, to_microapp_id=b) for a, b in sorted(pairs)],
        batch_size=5000,
    )
    return Fleet(provider=provider, levels=by_level[1:], edges=len(pairs))


def sampled(fn, runs: int) -> Timing:
    """Median and 95th percentile in ms of ``runs`` calls after a warm-up, and the queries
    of one call."""
    queries = count_queries(fn)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(samples, n=20)[18] if len(samples) > 1 else samples[0]
    return Timing(median=statistics.median(samples), p95=p95, queries=queries)


def check_walk(fleet: Fleet, found) -> None:
    """The walk found the radius the fleet was built with, each app at its depth."""
    expected = {pk: depth for depth, ids in enumerate(fleet.levels, 1) for pk in ids}
    got = {d.app.pk: d.depth for d in found}
    if got != expected:
        missing, extra = expected.keys() - got.keys(), got.keys() - expected.keys()
        wrong = sum(1 for pk in expected.keys() & got.keys() if expected[pk] != got[pk])
        raise AssertionError(
            f"the walk found {len(got)} dependents, expected {len(expected)}: "
            f"{len(missing)} missing, {len(extra)} extra, {wrong} at the wrong depth"
        )


def measure(fleet: Fleet, *, runs: int) -> dict[str, Timing]:
    from benchmarks.web import client_for
    from catalog import impact
    from catalog.models import MicroApp

    provider = MicroApp.objects.get(pk=fleet.provider)
    check_walk(fleet, impact.dependents(provider))
    client = client_for("pat")

    def get(path: str):
        def run():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return run

    api = get(f"/api/v1/apps/{provider.slug}/impact/")
    if api().json()["count"] != sum(len(ids) for ids in fleet.levels):
        raise AssertionError("the API answered another radius than the walk")
    return {
        "query": sampled(lambda: impact.dependent_rows(provider.pk), runs),
        "walk": sampled(lambda: impact.dependents(provider), runs),
        "api": sampled(api, runs),
        "page": sampled(get(f"/apps/{provider.slug}/impact/"), max(3, runs // 5)),
    }


def bench_impact(
    *,
    edges: int = EDGES,
    dependents: int = DEPENDENTS,
    levels: int = LEVELS,
    runs: int = IMPACT_RUNS,
) -> dict[str, Timing]:
    from django.db import connection, transaction

    from catalog.impact import IMPACT_STATES
    from catalog.models import MicroApp

    apps = list(MicroApp.objects.values_list("pk", "state").order_by("pk"))
    live = [pk for pk, state in apps if state in IMPACT_STATES]
    say(f"blast radius: {len(apps)} apps, {edges} edges, {dependents} dependents (rolled back)")
    results: dict[str, Timing] = {}
    try:
        with transaction.atomic():
            fleet = lay_out(
                live, [pk for pk, _ in apps], edges=edges, dependents=dependents, levels=levels
            )
            if connection.vendor == "postgresql":
                # The planner must know the new graph, as autovacuum would have told it.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE catalog_microapp_depends_on")
            results = measure(fleet, runs=runs)
            raise Rollback
    except Rollback:
        pass
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # The rolled-back graph leaves dead rows that the next cases would scan.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE catalog_microapp_depends_on")
    radius = f"{dependents} dependents, {levels} levels, {edges} edges"
    query, walk, api, page = (results[k] for k in ("query", "walk", "api", "page"))
    target = f"< {WALK_TARGET_MS:g} ms"
    for name, label, timing in (
        ("impact.dependent_rows", f"impact.dependent_rows: {radius}", query),
        ("impact.dependents", "impact.dependents (+ the apps, teams, owners, uses)", walk),
    ):
        add(label, timing.median, timing.queries, target=target, ok=timing.median < WALK_TARGET_MS)
        add(
            f"{name}, p95",
            timing.p95,
            timing.queries,
            target=target,
            ok=timing.p95 < WALK_TARGET_MS,
        )
    add(f"GET /api/v1/apps/{{slug}}/impact/ ({dependents} dependents)", api.median, api.queries)
    add("GET /api/v1/apps/{slug}/impact/, p95", api.p95, api.queries)
    add(f"blast radius page /apps/{{slug}}/impact/ ({dependents})", page.median, page.queries)
    return results
