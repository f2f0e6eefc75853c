"""The attack runner's own rules (python -m tests.attack): what counts as held."""

from __future__ import annotations

import pytest

from tests.attack.access import API_RULES, held, operations, outcome
from tests.attack.report import Report


@pytest.mark.parametrize(
    ("expected", "status", "location", "ok"),
    [
        ("allow", 200, "", True),
        ("allow", 400, "", True),  # past the permission check, refused for its body
        ("allow", 403, "", False),
        ("allow", 302, "/login/?next=/ops/", False),
        ("allow", 500, "", False),
        ("deny", 403, "", True),
        ("deny", 200, "", False),
        ("deny", 404, "", False),  # a visible object must not pretend not to exist
        ("hidden", 404, "", True),
        ("hidden", 403, "", False),  # would reveal that the draft exists
        ("unauthenticated", 401, "", True),
        ("unauthenticated", 200, "", False),
        ("login", 302, "/login/?next=/apps/", True),
        ("login", 302, "/elsewhere/", False),
        ("admin-login", 302, "/admin/login/?next=/admin/", True),
    ],
)
def test_what_holds(expected, status, location, ok):
    assert held(expected, status, location) is ok


def test_a_refusal_is_hidden_only_when_the_object_is_invisible():
    assert outcome("carol", allowed=False, visible=True) == "deny"
    assert outcome("carol", allowed=False, visible=False) == "hidden"
    assert outcome("anonymous", allowed=False, visible=False) == "unauthenticated"
    assert outcome("anonymous", allowed=False, visible=True, page=True) == "login"


def test_every_schema_operation_has_a_rule():
    """A new operation without a row fails here, before the runner reports it."""
    documented = {op for op, _, _ in operations()} - {"telemetry_ingest"}
    assert sorted(documented - API_RULES.keys()) == []


def test_the_table_counts_and_names_the_failures():
    report = Report()
    report.check("CSRF", "a", True)
    report.check("CSRF", "b", False, "answered 200")
    report.crashed("telemetry", RuntimeError("no app"))
    table = report.table()
    assert [c.name for c in report.failed] == ["b", "category ran to the end"]
    assert "total" in table and "[CSRF] b: answered 200" in table
    assert "RuntimeError: no app" in table
