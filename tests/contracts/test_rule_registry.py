"""The engine's rule ids and levels against oasdiff's rules file (tests/data/oasdiff-rules)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from contracts.documents import parse_openapi_text
from contracts.openapi_diff import diff_documents, rules

from .helpers import OASDIFF, OASDIFF_RULES, REAL


@cache
def _oasdiff() -> dict[str, Any]:
    return json.loads(OASDIFF_RULES.read_text(encoding="utf-8"))


def _levels() -> dict[str, str]:
    return {rule["id"]: rule["level"] for rule in _oasdiff()["rules"]}


def _scanned_changes() -> list[dict[str, Any]]:
    """Every change of the oasdiff corpus pairs, both ways, and of the real examples."""
    cases = json.loads((OASDIFF / "cases.json").read_text(encoding="utf-8"))["cases"]
    pairs = {(OASDIFF / c["base"], OASDIFF / c["revision"]) for c in cases}
    real = sorted(REAL.glob("oai-*.yaml"))
    pairs |= {(a, b) for a, b in zip(real, real[1:], strict=False)}
    docs: dict[Any, dict[str, Any]] = {}

    def load(path: Any) -> dict[str, Any]:
        if path not in docs:
            docs[path] = parse_openapi_text(path.read_text(encoding="utf-8"))
        return docs[path]

    changes: list[dict[str, Any]] = []
    for a, b in sorted(pairs):
        changes += diff_documents(load(a), load(b))
        changes += diff_documents(load(b), load(a))
    return changes


def test_the_rules_file_is_oasdiffs_at_the_commit_the_registry_names() -> None:
    data = _oasdiff()
    assert data["commit"] == rules.OASDIFF_COMMIT
    assert data["licence"] == "Apache-2.0"
    ids = [rule["id"] for rule in data["rules"]]
    assert len(ids) == len(set(ids)) == 509
    assert {rule["level"] for rule in data["rules"]} == {"ERR", "WARN", "INFO"}


def test_every_id_the_engine_can_emit_is_oasdiffs_or_a_documented_addition() -> None:
    oasdiff = _levels()
    unknown = sorted(
        i for i in rules.EMITTABLE if i not in oasdiff and i not in rules.OUR_ADDITIONS
    )
    assert unknown == []
    # An addition oasdiff has since adopted must take oasdiff's entry instead.
    assert sorted(i for i in rules.OUR_ADDITIONS if i in oasdiff) == []
    assert sorted(set(rules.OUR_ADDITIONS) - rules.EMITTABLE) == []
    assert all(reason.strip() for reason in rules.OUR_ADDITIONS.values())


def test_renamed_ids_point_at_oasdiffs_current_names() -> None:
    oasdiff = _levels()
    for old, new in rules.RENAMED.items():
        assert new in oasdiff and new in rules.EMITTABLE
        assert old not in oasdiff and old not in rules.EMITTABLE
        assert rules.current_id(old) == new
    assert rules.current_id("endpoint-added") == "endpoint-added"


def test_an_unknown_id_or_a_wrong_level_cannot_be_emitted() -> None:
    with pytest.raises(rules.UnknownRuleId):
        rules.checked("added-required-request-body", "ERR")
    with pytest.raises(rules.UnknownRuleId):
        rules.checked("request-parameter-removed-before-sunset", "WARN")
    assert rules.checked("request-body-added-required", "ERR") == "request-body-added-required"


def test_fixed_levels_are_oasdiffs() -> None:
    oasdiff = _levels()
    wrong = sorted(
        (i, level, oasdiff.get(i))
        for i, level in rules.FIXED_LEVELS.items()
        if oasdiff.get(i) != level
    )
    assert wrong == []


def test_emitted_ids_are_known_and_shared_ones_carry_oasdiffs_level() -> None:
    oasdiff = _levels()
    changes = _scanned_changes()
    assert len({c["id"] for c in changes}) > 250  # the scan reaches most of the engine
    assert {c["id"] for c in changes} <= rules.EMITTABLE
    wrong = sorted(
        {(c["id"], c["level"], oasdiff[c["id"]]) for c in changes if c["id"] in oasdiff}
        - {(i, level, level) for i, level in oasdiff.items()}
    )
    assert wrong == []
