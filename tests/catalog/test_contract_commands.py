"""The contract engine's management commands print their tables (no database needed)."""

from __future__ import annotations

import io

from django.core.management import call_command

from tests.contracts.helpers import OASDIFF


def _call(name: str, *args: str) -> str:
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
