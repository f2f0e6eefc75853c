"""``$ref`` is a reference only where OpenAPI puts a Reference Object; elsewhere it is data.

The fixtures copy the shape of GitHub's SCIM examples (``members[].$ref`` is SCIM's own
attribute, an absolute URL) into every data position, in Swagger 2.0, OpenAPI 3.0 and 3.1.
"""

from __future__ import annotations

import copy
import json

import pytest

from contracts import ForbiddenRef, diff_contracts, load_document, validate_contract

from .helpers import CORPUS

SCIM = CORPUS / "github-scim"
FIXTURES = sorted(SCIM.glob("scim-*.yaml"))
MEMBER_URL = "https://api.github.com/scim/v2/Users/879db59-3bdf-4490-ad68-ab880a2694745"


def test_the_three_versions_are_there() -> None:
    assert [p.name for p in FIXTURES] == ["scim-2.0.yaml", "scim-3.0.yaml", "scim-3.1.yaml"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_a_ref_inside_data_is_kept_as_written_and_the_document_is_valid(path) -> None:  # noqa: ANN001
    document = load_document(path.read_bytes(), "openapi")
    assert MEMBER_URL in document.normalised  # kept verbatim, not resolved or dropped
    result = validate_contract(document)
    assert result.valid, result.errors


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_the_diff_neither_follows_nor_trips_over_data_refs(path) -> None:  # noqa: ANN001
    base = load_document(path.read_bytes(), "openapi")
    assert diff_contracts(base, base) == []
    # Point every data $ref elsewhere, to a local-looking target too: still only data.
    changed = json.loads(
        base.normalised.replace("https://api.github.com/scim/v2/", "#/components/schemas/")
    )
    revision = load_document(json.dumps(changed), "openapi")
    assert revision.sha256 != base.sha256
    # What changed is compared as values (enum, const, default); examples and extensions
    # are not compared at all, and nothing behind the "reference" is looked at.
    kinds = {c["id"].split("-property-")[1] for c in diff_contracts(base, revision)}
    assert kinds <= {
        "default-value-changed",
        "enum-value-added",
        "enum-value-removed",
        "const-changed",
    }
    assert "default-value-changed" in kinds


def _scim_3() -> dict:
    return copy.deepcopy(load_document((SCIM / "scim-3.0.yaml").read_bytes(), "openapi").data)


EXTERNAL = "https://example.com/schemas.yaml#/Group"


@pytest.mark.parametrize(
    ("where", "plant"),
    [
        # An entry of an examples map is an Example Object *or a Reference Object*.
        ("$.components.examples.remote.$ref", ("components", "examples", "remote")),
        # A property *named* default, example or x-something is a schema, not data.
        (
            "$.components.schemas.group-response.properties.default.$ref",
            ("components", "schemas", "group-response", "properties", "default"),
        ),
        (
            "$.components.schemas.group-response.properties.x-meta.$ref",
            ("components", "schemas", "group-response", "properties", "x-meta"),
        ),
        # The "default" response of a responses map is a response.
        (
            "$.paths./scim/v2/enterprises/{enterprise}/Groups/{scim_group_id}.get"
            ".responses.default.$ref",
            (
                "paths",
                "/scim/v2/enterprises/{enterprise}/Groups/{scim_group_id}",
                "get",
                "responses",
                "default",
            ),
        ),
    ],
    ids=["examples-entry", "property-named-default", "property-named-x", "default-response"],
)
def test_an_external_ref_in_a_reference_position_is_still_refused(where, plant) -> None:  # noqa: ANN001
    doc = _scim_3()
    node = doc
    for key in plant[:-1]:
        node = node[key]
    node[plant[-1]] = {"$ref": EXTERNAL}
    with pytest.raises(ForbiddenRef) as refused:
        load_document(json.dumps(doc), "openapi")
    assert [e["path"] for e in refused.value.errors] == [where]


def test_swagger_2_examples_are_data_but_its_definitions_are_not() -> None:
    doc = load_document((SCIM / "scim-2.0.yaml").read_bytes(), "openapi").data or {}
    doc["definitions"]["example"] = {"$ref": EXTERNAL}  # a definition named "example"
    with pytest.raises(ForbiddenRef, match=r"\$\.definitions\.example\.\$ref"):
        load_document(json.dumps(doc), "openapi")
