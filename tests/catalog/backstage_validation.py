"""Backstage's own validation of exported entities: ``tests/backstage/validate_entities.cjs``
runs ``@backstage/catalog-model`` under node. Outside CI a missing node or package skips,
visibly; under CI=true it fails, so CI never passes without the check."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "backstage" / "validate_entities.cjs"
PACKAGE = ROOT / "node_modules" / "@backstage" / "catalog-model" / "package.json"


def backstage_rejections(entities: list[dict]) -> dict[str, str]:
    """Entity reference → Backstage's error, for each entity its validators refuse."""
    node = shutil.which("node")
    if node is None or not PACKAGE.exists():
        reason = "node and @backstage/catalog-model (npm ci) are needed to validate entities"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    lines = "".join(json.dumps(entity) + "\n" for entity in entities)
    done = subprocess.run(
        [node, str(SCRIPT)], input=lines, capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(entities)
    return {r["ref"]: r["error"] for r in results if not r["ok"]}
