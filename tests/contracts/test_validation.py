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


REFERENCED_DEFECTS = """
openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /pets:
    get:
      parameters:
        - {name: kind, in: query, schema: {type: string, default: 3}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
components:
  schemas:
    Pet:
      type: object
      properties:
        name: {type: string, minLength: -1}
        tag: {type: string, default: [a]}
"""


def test_errors_are_located_where_the_defect_is_written_not_where_it_was_reached() -> None:
    result = validate_contract(REFERENCED_DEFECTS, "openapi")
    paths = sorted(e["path"] for e in result.errors)
    assert paths == [
        "$.components.schemas.Pet.properties.name.minLength",
        "$.components.schemas.Pet.properties.tag.default",
        "$.paths./pets.get.parameters[0].schema.default",
    ], result.errors


def test_the_cache_key_names_the_validator_versions() -> None:
    from contracts.validation_cache import ValidationCache, validator_versions

    assert "openapi-spec-validator==" in validator_versions()
    cache = ValidationCache(size=2)
    for n in range(3):
        cache.put((f"sha{n}", "3.1.0", "v"), [{"path": "$", "message": str(n)}])
    assert len(cache) == 2 and cache.get(("sha0", "3.1.0", "v")) is None
    assert cache.get(("sha2", "3.1.0", "v")) == [{"path": "$", "message": "2"}]


def test_a_defect_behind_a_ref_into_a_list_is_located_with_its_index() -> None:
    # Only the parameter validator reaches the shared list, and only through the $ref.
    doc = """
openapi: 3.0.3
info: {title: t, version: '1'}
x-shared-parameters:
  - {name: q, in: query, schema: {type: integer, minimum: one}}
paths:
  /b:
    get:
      parameters:
        - $ref: '#/x-shared-parameters/0'
      responses: {'200': {description: ok}}
"""
    result = validate_contract(doc, "openapi")
    assert [e["path"] for e in result.errors] == ["$.x-shared-parameters[0].schema.minimum"]
