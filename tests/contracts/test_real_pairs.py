"""Two real APIs at two dates each (tests/data/real-pairs/SOURCES.md): Discord over nine
months, OpenAI over one. Upstream changes every day, so nothing here pins a count of
changes; the assertions are the invariants any correct engine keeps on them."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from contracts import (
    ContractDocument,
    diff_contracts,
    is_compatible,
    load_document,
    validate_contract,
)
from contracts.openapi_diff.rules import OUR_ADDITIONS

from .helpers import OASDIFF_RULES, REAL_PAIRS

# (old, new, upstream validity of old, of new): recorded, not demanded — both OpenAI files
# and the older Discord one fail openapi-spec-validator as published.
PAIRS = {
    "discord": ("discord-2025-10-17.json", "discord-2026-07-18.json", False, True),
    "openai": ("openai-2026-07-23.json", "openai-2026-08-21.json", False, False),
}
LEVELS = ("ERR", "WARN", "INFO")


def oasdiff_levels() -> dict[str, str]:
    rules = json.loads(OASDIFF_RULES.read_text(encoding="utf-8"))["rules"]
    return {rule["id"]: rule["level"] for rule in rules}


def load_pair(name: str) -> tuple[ContractDocument, ContractDocument]:
    old, new, _, _ = PAIRS[name]
    return load_document((REAL_PAIRS / old).read_bytes()), load_document(
        (REAL_PAIRS / new).read_bytes()
    )


@pytest.fixture(scope="module")
def loaded() -> dict[str, tuple[ContractDocument, ContractDocument]]:
    return {name: load_pair(name) for name in PAIRS}


@pytest.fixture(scope="module")
def diffs(loaded: dict[str, tuple[ContractDocument, ContractDocument]]) -> dict[str, Any]:
    return {name: diff_contracts(old, new) for name, (old, new) in loaded.items()}


@pytest.mark.parametrize("name", PAIRS)
def test_both_sides_load_as_openapi_3_1(loaded: dict[str, Any], name: str) -> None:
    for document in loaded[name]:
        assert document.kind == "openapi"
        assert document.spec_version == "3.1.0"
        assert len(document.data["paths"]) > 100


@pytest.mark.parametrize("name", PAIRS)
def test_validation_matches_what_upstream_published(loaded: dict[str, Any], name: str) -> None:
    for document, upstream_valid in zip(loaded[name], PAIRS[name][2:], strict=True):
        result = validate_contract(document)
        assert result.valid is upstream_valid, result.errors[:3]
        # An invalid document is reported in full, each error with where it is.
        assert upstream_valid or result.errors
        assert all(error["path"] and error["message"] for error in result.errors)


@pytest.mark.parametrize("name", PAIRS)
def test_diff_reports_changes_at_every_level(diffs: dict[str, Any], name: str) -> None:
    changes = diffs[name]
    counts = Counter(change["level"] for change in changes)
    assert set(counts) <= set(LEVELS)
    # Both pairs hold real breaking, possibly breaking and compatible changes.
    assert all(counts[level] > 0 for level in LEVELS), counts
    assert is_compatible(changes) is False
    for change in changes:
        assert change["id"] and change["message"] and change["path"]


@pytest.mark.parametrize("name", PAIRS)
def test_every_id_is_oasdiffs_at_oasdiffs_level(diffs: dict[str, Any], name: str) -> None:
    levels = oasdiff_levels()
    reported = {(change["id"], change["level"]) for change in diffs[name]}
    # Ids of the engine's own are listed, each with its reason, in the rule registry.
    unknown = {rule for rule, _ in reported if rule not in levels} - OUR_ADDITIONS.keys()
    assert not unknown
    other_level = {(r, lvl, levels[r]) for r, lvl in reported if r in levels and levels[r] != lvl}
    assert not other_level


@pytest.mark.parametrize("name", PAIRS)
def test_diff_is_deterministic(loaded: dict[str, Any], diffs: dict[str, Any], name: str) -> None:
    old, new = loaded[name]
    assert diff_contracts(old, new) == diffs[name]


@pytest.mark.parametrize("name", PAIRS)
def test_a_document_against_itself_has_no_changes(loaded: dict[str, Any], name: str) -> None:
    for document in loaded[name]:
        assert diff_contracts(document, document) == []


def test_the_rule_id_snapshot_is_oasdiffs_whole_rules_file() -> None:
    levels = oasdiff_levels()
    assert Counter(levels.values()) == {"ERR": 213, "WARN": 30, "INFO": 266}
    assert levels["request-body-added-required"] == "ERR"
    assert levels["sunset-deleted"] == "ERR"
