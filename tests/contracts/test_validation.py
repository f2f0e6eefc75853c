"""Validation with openapi-spec-validator: right validator per version, every error."""

from __future__ import annotations

import pytest

from contracts import validate_contract

from .helpers import REAL

EXAMPLES = sorted(REAL.glob("oai-*.yaml"))


def test_the_oai_examples_are_all_there() -> None:
    # An empty parameter list below would skip, not fail: count the files explicitly.
    versions = sorted({path.name.split("-")[1] for path in EXAMPLES})
    assert (len(EXAMPLES), versions) == (16, ["2.0", "3.0", "3.1"]), REAL


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_oai_examples_validate_with_their_version(path) -> None:  # noqa: ANN001
    result = validate_contract(path.read_bytes(), "openapi")
    assert result.valid, result.errors
    expected = path.name.split("-")[1]  # oai-3.1-... -> "3.1"
    assert result.spec_version.startswith(expected)
    assert len(result.sha256) == 64


INVALID = """
openapi: 3.0.3
info:
  title: broken
paths:
  /pets:
    get:
      parameters:
        - name: limit
          in: nowhere
      responses:
        "200": {}
"""


def test_invalid_document_returns_all_errors_with_paths() -> None:
    result = validate_contract(INVALID, "openapi")
    assert not result.valid
    paths = {e["path"] for e in result.errors}
    assert "$.info" in paths  # missing version
    assert "$.paths./pets.get.parameters[0]" in paths  # bad "in"
    assert any(p.startswith("$.paths./pets.get.responses") for p in paths)
    assert all(e["message"] for e in result.errors)


def test_swagger_2_invalid_document_uses_the_2_0_validator() -> None:
    result = validate_contract('{"swagger": "2.0", "info": {"title": "t"}, "paths": {}}')
    assert result.spec_version == "2.0"
    assert not result.valid
    assert result.errors[0]["path"] == "$.info"


def test_graphql_validation() -> None:
    ok = validate_contract("type Query { a: String }", "graphql")
    assert ok.valid and ok.spec_version == "graphql"
    bad = validate_contract(
        "type Query { a: String }\ninterface I { x: Int }\ntype T implements I { y: Int }",
        "graphql",
    )
    assert not bad.valid
    assert "I.x" in bad.errors[0]["message"]
