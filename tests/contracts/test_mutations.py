"""The mutation test: every kind of edit of ``tests/contracts/mutations`` applied alone to
Discord's, Stripe's and OpenAI's real specs. ``python -m tests.contracts.mutations`` prints the same
run as a table with each miss; the floors below are the figures measured when this test
was written, and are raised, never lowered, as the engine learns rules."""

from __future__ import annotations

import json

import pytest

from contracts import load_document

from .mutations.catalogue import BREAKING, COMPATIBLE
from .mutations.report import SPECS, MutationReport, rule_levels, run, run_one
from .mutations.sites import Spec

NAMES = ("discord", "stripe", "openai")
# (spec, level): (edits that found a place, edits the engine caught with the exact id at
# oasdiff's level). Missed: on Discord, removing the first oneOf variant of a request
# property, which there is {"type": "null"}: the engine reports what it means,
# request-property-became-not-nullable (ERR too), where oasdiff names the oneOf change.
FLOORS = {
    ("discord", "ERR"): (47, 46),
    ("discord", "WARN"): (11, 11),
    ("discord", "INFO"): (27, 27),
    ("discord", "none"): (3, 3),
    ("stripe", "ERR"): (47, 47),
    ("stripe", "WARN"): (12, 12),
    ("stripe", "INFO"): (30, 30),
    ("stripe", "none"): (3, 3),
    ("openai", "ERR"): (51, 51),
    ("openai", "WARN"): (12, 12),
    ("openai", "INFO"): (30, 30),
    ("openai", "none"): (3, 3),
}


@pytest.fixture(scope="module")
def report() -> MutationReport:
    return run(NAMES, focus=True)


def test_the_catalogue_is_oasdiffs_rules_in_both_directions() -> None:
    levels = rule_levels()
    kinds = {(m.rule, m.what) for m in (*BREAKING, *COMPATIBLE)}
    assert len(kinds) == len(BREAKING) + len(COMPATIBLE)
    assert all(levels[m.rule] in ("ERR", "WARN") for m in BREAKING if m.rule)
    assert all(m.rule is None or levels[m.rule] == "INFO" for m in COMPATIBLE)
    assert len(BREAKING) >= 40
    assert len(COMPATIBLE) >= 20


def test_every_kind_finds_a_place_in_some_spec(report: MutationReport) -> None:
    placed = {(o.mutation.rule, o.mutation.what) for o in report.outcomes if o.applied}
    assert placed == {(m.rule, m.what) for m in (*BREAKING, *COMPATIBLE)}


def test_no_edit_crashes_the_engine(report: MutationReport) -> None:
    assert [o.error for o in report.outcomes if o.error] == []


def test_no_compatible_edit_is_reported_as_breaking(report: MutationReport) -> None:
    assert [(o.spec, o.mutation.what, o.instead()) for o in report.outcomes if o.false_err] == []


@pytest.mark.parametrize(("spec", "level"), FLOORS)
def test_recall_per_level_holds_its_floor(report: MutationReport, spec: str, level: str) -> None:
    applied, hit = FLOORS[(spec, level)]
    row = report.figures(spec)[level]
    assert row["applied"] == applied
    assert row["hit"] >= hit, [
        (o.mutation.rule, o.instead()) for o in report.missed() if o.spec == spec
    ]


def test_an_edit_leaves_the_original_spec_untouched() -> None:
    document = load_document(SPECS["discord"].read_bytes())
    before = json.dumps(document.data, sort_keys=True)
    spec = Spec("discord", document.data or {})
    for mutation in (*BREAKING, *COMPATIBLE):
        mutation.make(spec)
    assert json.dumps(spec.doc, sort_keys=True) == before


def test_a_focused_diff_reports_what_the_whole_spec_diff_does() -> None:
    spec = Spec("discord", load_document(SPECS["discord"].read_bytes()).data or {})
    levels = rule_levels()
    for mutation in (*BREAKING[:6], *COMPATIBLE[:3]):
        whole = run_one(spec, mutation, levels)
        focused = run_one(spec, mutation, levels, focus=True)
        assert focused.reported == whole.reported, mutation.what
