"""Large real documents: OpenAI's openapi.yaml (anchors, 23 real errors) and GitHub's
GraphQL schema."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from contracts import diff_contracts, load_document, validate_contract
from contracts.documents import json_path

from .helpers import GRAPHQL_GITHUB, OPENAI

OPENAI_YAML = OPENAI / "openapi-2026-07-14.yaml"
GITHUB_SDL = GRAPHQL_GITHUB / "schema-2024-07-08.graphql"


@pytest.fixture(scope="module")
def openai() -> Any:
    return load_document(OPENAI_YAML.read_bytes(), "openapi")


def _every_path(tree: Any) -> set[str]:
    paths: set[str] = set()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(tree, ())]
    while stack:
        node, parts = stack.pop()
        paths.add(json_path(parts))
        if isinstance(node, dict | list):
            children = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((child, (*parts, key)) for key, child in children)
    return paths


def test_openai_yaml_with_its_anchors_loads(openai) -> None:  # noqa: ANN001
    schemas = (openai.data or {})["components"]["schemas"]
    # "required: &ref_0 [type]" and its two aliases, expanded in place.
    users = ("InputFileContent", "ApproximateLocation", "WebSearchPreviewTool")
    assert [schemas[name]["required"] for name in users] == [["type"]] * 3
    assert openai.spec_version == "3.1.0"


def test_every_openai_error_is_reported_at_its_absolute_path(openai) -> None:  # noqa: ANN001
    upstream = list(OpenAPIV31SpecValidator(openai.data).iter_errors())
    result = validate_contract(openai)
    assert not result.valid
    # None merged away: the validator's own count, which is OpenAI's real 23 defects.
    assert len(result.errors) == len(upstream) == 23
    where = _every_path(openai.data)
    for error in result.errors:
        assert error["path"] in where and error["path"].startswith("$.components.schemas."), error
    messages = {(e["path"], e["message"].split(" (closest")[0]) for e in result.errors}
    assert (
        "$.components.schemas.ContainerResource.required",
        "['id', 'object', 'name', 'created_at', 'status', 'id', 'name', 'created_at', "
        "'status'] has non-unique elements",
    ) in messages


def test_a_cached_validation_answers_the_same_and_cannot_be_spoilt(openai) -> None:  # noqa: ANN001
    first = validate_contract(openai)
    first.errors.clear()  # a caller changing its copy
    again = validate_contract(OPENAI_YAML.read_bytes(), "openapi")
    assert len(again.errors) == 23 and again.sha256 == openai.sha256


def test_githubs_graphql_schema_loads_validates_and_diffs_against_itself() -> None:
    document = load_document(GITHUB_SDL.read_bytes(), "graphql")
    result = validate_contract(document)
    assert result.valid, result.errors[:3]
    assert "type Repository implements" in (document.sdl or "")
    assert diff_contracts(document, document, "graphql") == []
