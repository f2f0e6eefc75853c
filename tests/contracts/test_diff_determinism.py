"""The same two documents give the same report, byte for byte, in every process.

Python salts string hashes per process (``PYTHONHASHSEED``), so any set of names iterated
while the report is built would reorder the changes — and, because a shared schema is
reported once at the first path that reaches it, even move them to other paths. Each
diff here runs in fresh interpreters with different seeds and the JSON must not differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .helpers import OASDIFF

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ("0", "1", "2", "random")

# Diffs every pair named on the command line (or a pair given as two JSON files) and
# prints the reports as one JSON document.
_RUNNER = """
import json, sys
from contracts.documents import parse_openapi_text
from contracts.openapi_diff import diff_documents
pairs = json.loads(sys.argv[1])
load = lambda p: parse_openapi_text(open(p, encoding="utf-8").read())
print(json.dumps([diff_documents(load(a), load(b)) for a, b in pairs]))
"""


def _reports(pairs: list[tuple[str, str]], seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, json.dumps(pairs)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    return done.stdout


def _assert_same_under_every_seed(pairs: list[tuple[str, str]]) -> str:
    first = _reports(pairs, SEEDS[0])
    for seed in SEEDS[1:]:
        assert _reports(pairs, seed) == first, f"report differs under PYTHONHASHSEED={seed}"
    return first


def test_oasdiff_corpus_reports_do_not_depend_on_the_hash_seed() -> None:
    cases = json.loads((OASDIFF / "cases.json").read_text(encoding="utf-8"))["cases"]
    pairs = list(
        dict.fromkeys((str(OASDIFF / c["base"]), str(OASDIFF / c["revision"])) for c in cases)
    )
    out = json.loads(_assert_same_under_every_seed(pairs))
    assert sum(len(report) for report in out) > 300


def _wide_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """Over 1000 changes, reached through shared components along many paths."""
    names = [f"field_{i:04d}" for i in range(700)]
    shared_a = {
        "type": "object",
        "required": names[:350],
        "properties": {n: {"type": "string", "maxLength": 10} for n in names},
    }
    shared_b = {
        "type": "object",
        "required": names[300:400],
        "properties": {n: {"type": "integer"} for n in names[100:]},
    }

    def doc(shared: dict[str, Any], extra_tags: list[str]) -> dict[str, Any]:
        holder = {
            "type": "object",
            "properties": {f"via_{k}": {"$ref": "#/components/schemas/Shared"} for k in "zyxwv"},
        }
        op = {
            "tags": ["pets", *extra_tags],
            "security": [{"oauth": ["read", "write", *extra_tags], "key": []}],
            "requestBody": {"content": {"application/json": {"schema": holder}}},
            "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": holder}}}
            },
        }
        return {
            "openapi": "3.0.3",
            "info": {"title": "wide", "version": "1"},
            "paths": {f"/things{i}": {"post": op} for i in range(2)},
            "components": {"schemas": {"Shared": shared}},
        }

    return doc(shared_a, ["alpha", "beta", "gamma"]), doc(shared_b, ["delta", "epsilon"])


def test_a_report_over_a_thousand_changes_and_its_cut_are_seed_independent(
    tmp_path: Path,
) -> None:
    base, rev = _wide_pair()
    (tmp_path / "a.json").write_text(json.dumps(base), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(rev), encoding="utf-8")
    pairs = [(str(tmp_path / "a.json"), str(tmp_path / "b.json"))]
    out = json.loads(_assert_same_under_every_seed(pairs))
    (report,) = out
    assert len(report) > 1000
    # The stored list is the report sorted by level (a stable sort) and cut at 1000: with
    # the order fixed, so is the cut, ties keeping document order.
    assert [c["id"] for c in report[:2]] == ["api-tag-removed", "api-tag-removed"]
    fields = [c["location"] for c in report if "field_" in c["location"]]
    assert fields[:2] == [
        "request body application/json property 'via_z/field_0000'",
        "request body application/json property 'via_z/field_0001'",
    ]
