"""The contract engine stays a plain Python package: importing all of it loads no Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import pkgutil, sys, importlib
import contracts
for module in pkgutil.walk_packages(contracts.__path__, "contracts."):
    importlib.import_module(module.name)
loaded = sorted(name for name in sys.modules if name.split(".")[0] in {"django", "rest_framework"})
print(",".join(loaded))
"""


def test_importing_every_engine_module_loads_no_django():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
