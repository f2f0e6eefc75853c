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
