"""The impact walk's SQL against a plain breadth-first search, on tangled random graphs:
cycles, calls within a level, drafts and retired apps in the way, and depth limits."""

from __future__ import annotations

import random
from collections import deque

import pytest
from django.db import connection

from catalog import impact
from catalog.models import Dependency
from tests.conftest import require_postgres
from tests.factories import MicroAppFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

STATES = ["active"] * 6 + ["in_review", "expired", "sunsetting", "draft", "retired"]


def reference(provider: int, depth: int) -> list[tuple[int, int, int]]:
    """(dependent, distance, smallest id of an app one step nearer that it calls)."""
    live = {
        pk
        for pk, state in impact.MicroApp.objects.values_list("pk", "state")
        if state in impact.IMPACT_STATES
    }
    callers: dict[int, list[int]] = {}
    for caller, callee in Dependency.objects.values_list("from_microapp_id", "to_microapp_id"):
        if caller in live:
            callers.setdefault(callee, []).append(caller)
    distance = {provider: 0}
    queue = deque([provider])
    while queue:
        app = queue.popleft()
        if distance[app] == depth:
            continue
        for caller in callers.get(app, []):
            if caller not in distance:
                distance[caller] = distance[app] + 1
                queue.append(caller)
    rows = []
    for app, steps in distance.items():
        if app == provider:
            continue
        nearer = [
            callee
            for callee, its_callers in callers.items()
            if app in its_callers and distance.get(callee) == steps - 1
        ]
        rows.append((app, steps, min(nearer)))
    return sorted(rows)


@pytest.fixture
def tangle():
    rng = random.Random(7)
    team, owner = TeamFactory(), UserFactory()
    apps = [MicroAppFactory(team=team, owner=owner, state=rng.choice(STATES)).pk for _ in range(45)]
    pairs = {(rng.choice(apps), rng.choice(apps)) for _ in range(130)}
    Dependency.objects.bulk_create(
        [Dependency(from_microapp_id=a, to_microapp_id=b) for a, b in pairs if a != b]
    )
    return apps


@pytest.mark.parametrize("depth", [1, 2, 4, 10])
def test_the_walk_answers_what_a_breadth_first_search_does(tangle, depth):
    deepest = 0
    for provider in tangle[:12]:
        expected = reference(provider, depth)
        assert sorted(impact.dependent_rows(provider, depth)) == expected
        deepest = max([deepest, *(steps for _, steps, _ in expected)])
    assert deepest >= min(depth, 4)  # the tangle is deep enough to test the limit


def test_both_forms_of_the_walk_agree_on_postgresql(tangle):
    require_postgres("the level-by-level walk is PostgreSQL's")
    states = ", ".join(["%s"] * len(impact.IMPACT_STATES))
    for provider in tangle[:12]:
        with connection.cursor() as cursor:
            cursor.execute(
                impact._WALK_SQL.format(states=states),
                [provider, *impact.IMPACT_STATES, 10, *impact.IMPACT_STATES, provider],
            )
            portable = sorted((int(a), int(d), int(v)) for a, d, v in cursor.fetchall())
        assert portable == sorted(impact.dependent_rows(provider)) == reference(provider, 10)
