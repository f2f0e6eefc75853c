"""The benchmark harness' case selection (the benchmarks themselves need a seeded database)."""

from __future__ import annotations

import pytest

from benchmarks.__main__ import CASE_GROUPS, selected_cases


def test_no_selection_runs_every_case(monkeypatch):
    monkeypatch.delenv("BENCH_CASES", raising=False)
    assert selected_cases([]) == set(CASE_GROUPS)
    assert selected_cases(["all"]) == set(CASE_GROUPS)


def test_cases_come_from_arguments_before_the_environment(monkeypatch):
    monkeypatch.setenv("BENCH_CASES", "lifecycle")
    assert selected_cases(["telemetry,pages"]) == {"pages", "telemetry"}
    assert selected_cases([]) == {"lifecycle"}


def test_an_unknown_case_stops_with_the_valid_names(monkeypatch):
    monkeypatch.delenv("BENCH_CASES", raising=False)
    with pytest.raises(SystemExit, match="unknown benchmark case.*telemetry"):
        selected_cases(["telemetri"])


# --- the blast radius benchmark, at a small size -----------------------------------------


@pytest.mark.django_db
def test_the_impact_benchmark_builds_the_radius_it_times_and_leaves_the_graph_alone(pat):
    from benchmarks import harness
    from benchmarks.impact import bench_impact, level_sizes
    from catalog.models import Dependency
    from tests.factories import MicroAppFactory, TeamFactory

    team = TeamFactory()
    live = MicroAppFactory.create_batch(40, state="active", team=team, owner=pat)
    MicroAppFactory.create_batch(10, state="draft", team=team, owner=pat)
    Dependency.objects.create(from_microapp=live[1], to_microapp=live[0])
    rows_before = len(harness.ROWS)
    try:
        results = bench_impact(edges=120, dependents=24, levels=4, runs=3)
        rows = harness.ROWS[rows_before:]
    finally:
        del harness.ROWS[rows_before:]
    # The walk found the 24 apps at their depths before it was timed (or it raised), in
    # the three queries the walk costs whatever its size.
    assert results["walk"].queries == 3
    assert 0 < results["walk"].median <= results["walk"].p95
    assert results["api"].queries <= 8 and results["page"].queries <= 10
    assert results["query"].queries == 1
    assert [r.case.split(":")[0].split(" (")[0] for r in rows] == [
        "impact.dependent_rows",
        "impact.dependent_rows, p95",
        "impact.dependents",
        "impact.dependents, p95",
        "GET /api/v1/apps/{slug}/impact/",
        "GET /api/v1/apps/{slug}/impact/, p95",
        "blast radius page /apps/{slug}/impact/",
    ]
    assert rows[0].target == "< 50 ms" and rows[0].verdict in {"ok", "MISS"}
    # Rolled back: the fleet's own graph is as it was.
    assert list(Dependency.objects.values_list("from_microapp", "to_microapp")) == [
        (live[1].pk, live[0].pk)
    ]
    assert level_sizes(500, 5) == [16, 32, 64, 129, 259]
    assert sum(level_sizes(24, 4)) == 24


def test_the_impact_fleet_refuses_a_radius_it_cannot_build():
    from benchmarks.impact import level_sizes

    with pytest.raises(ValueError, match="cannot fill"):
        level_sizes(3, 5)


def test_the_impact_benchmark_stops_when_the_walk_misses_the_radius_it_built():
    from types import SimpleNamespace

    from benchmarks.impact import Fleet, check_walk

    fleet = Fleet(provider=1, levels=[[2, 3], [4]], edges=3)
    found = [SimpleNamespace(app=SimpleNamespace(pk=pk), depth=d) for pk, d in [(2, 1), (3, 1)]]
    check_walk(fleet, [*found, SimpleNamespace(app=SimpleNamespace(pk=4), depth=2)])
    with pytest.raises(AssertionError, match="1 missing, 0 extra, 0 at the wrong depth"):
        check_walk(fleet, found)
    with pytest.raises(AssertionError, match="0 missing, 0 extra, 1 at the wrong depth"):
        check_walk(fleet, [*found, SimpleNamespace(app=SimpleNamespace(pk=4), depth=1)])


# --- the contract engine's benchmark ------------------------------------------------------


def test_the_grown_document_repeats_schemas_under_new_names_until_its_size():
    import json

    from benchmarks.contracts import grown_openai

    tree = {"openapi": "3.1.0", "components": {"schemas": {"A": {"type": "string"}}}}
    grown = json.loads(grown_openai(tree, size=300))
    names = list(grown["components"]["schemas"])
    assert len(json.dumps(grown, separators=(",", ":"))) >= 300
    assert names[:3] == ["A", "ACopy1", "ACopy2"]
    assert all(schema == {"type": "string"} for schema in grown["components"]["schemas"].values())
    assert tree["components"]["schemas"] == {"A": {"type": "string"}}  # the input is untouched


def test_the_contract_case_needs_no_database(monkeypatch):
    from benchmarks import __main__ as bench

    monkeypatch.delenv("BENCH_CASES", raising=False)
    assert "contracts" in bench.CASE_GROUPS
    assert bench.selected_cases(["contracts"]) - bench.DATABASE_FREE == set()


def test_every_bomb_the_contract_benchmark_times_is_refused():
    from benchmarks.contracts import BOMBS, _refusal_rows

    rows = _refusal_rows()
    assert len(rows) == len(BOMBS)
    assert all(row.note.endswith(", refused") for row in rows), [r.note for r in rows]
