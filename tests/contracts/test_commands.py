"""The management commands print their tables (needs Django settings; no database)."""

from __future__ import annotations

import io

import pytest

from .helpers import OASDIFF


def _call(name: str, *args: str) -> str:
    django = pytest.importorskip("django")
    from django.conf import settings

    if not settings.configured:
        pytest.skip("Django settings are not configured (run with pytest-django)")
    django.setup()
    from django.core.management import call_command

    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_contract_corpus_report_prints_per_level_rows() -> None:
    output = _call("contract_corpus_report", "--folder", str(OASDIFF))
    lines = output.splitlines()
    assert lines[0].split()[:4] == ["level", "cases", "hit", "missed"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) >= {"ERR", "WARN", "INFO"}
    assert rows["ERR"][1] == rows["ERR"][2]  # every ERR case hit
