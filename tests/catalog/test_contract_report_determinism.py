"""The 1000 changes a version stores are the same whichever process computed them.

``summarise`` sorts by level (a stable sort) and cuts at ``MAX_REPORTED_CHANGES``: ties keep
the engine's order, so the cut is only as stable as that order. Each run is a fresh
interpreter with its own ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from catalog.contract_services import MAX_REPORTED_CHANGES

ROOT = Path(__file__).resolve().parents[2]

_RUNNER = """
import json, sys
import django
django.setup()
from contracts import diff_contracts
from catalog.contract_services import summarise
old, new = (open(p, encoding="utf-8").read() for p in sys.argv[1:3])
kept, counts = summarise(diff_contracts(old, new))
print(json.dumps({"kept": kept, "counts": counts}))
"""


def _pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """About 3,000 changes of every level over 300 properties and three operations."""
    names = [f"p{i:03d}" for i in range(300)]

    def doc(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        schema = {"type": "object", "required": required, "properties": props}
        op = {
            "requestBody": {"content": {"application/json": {"schema": schema}}},
            "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": schema}}}
            },
        }
        return {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {f"/r{i}": {"put": op} for i in range(3)},
        }

    base = doc({n: {"type": "string", "maxLength": 9} for n in names}, names[::2])
    rev = doc({n: {"type": "integer"} for n in names[50:]}, names[1::2])
    return base, rev


def test_the_stored_top_1000_is_the_same_under_every_hash_seed(tmp_path: Path) -> None:
    base, rev = _pair()
    paths = [tmp_path / "old.json", tmp_path / "new.json"]
    for path, doc in zip(paths, (base, rev), strict=True):
        path.write_text(json.dumps(doc), encoding="utf-8")
    answers = []
    for seed in ("0", "1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "DJANGO_SETTINGS_MODULE": "config.settings"}
        done = subprocess.run(
            [sys.executable, "-c", _RUNNER, *map(str, paths)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
            timeout=120,
        )
        answers.append(done.stdout)
    assert len(set(answers)) == 1
    stored = json.loads(answers[0])
    assert len(stored["kept"]) == MAX_REPORTED_CHANGES
    assert sum(stored["counts"].values()) > MAX_REPORTED_CHANGES
    # The cut falls inside a level, where only the order decides what is kept.
    last_level = stored["kept"][-1]["level"]
    assert stored["counts"][last_level] > sum(c["level"] == last_level for c in stored["kept"])
