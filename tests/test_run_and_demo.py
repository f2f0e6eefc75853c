"""`make run` serves the port it is given and links follow it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_serves_the_given_port_and_sets_the_base_url():
    printed = subprocess.run(
        ["make", "-n", "run", "PORT=8123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout

    base = "APPKEEPER_BASE_URL=http://127.0.0.1:8123"
    assert f"{base} .venv/bin/celery -A config worker" in printed
    assert f"{base} .venv/bin/python manage.py runserver --insecure 127.0.0.1:8123" in printed
