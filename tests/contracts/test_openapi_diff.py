"""Hand-written, precise OpenAPI diff cases (3.0, 3.1 and Swagger 2.0)."""

from __future__ import annotations

import copy
from typing import Any

from contracts import diff_contracts, is_compatible
from contracts.openapi_diff import diff_documents

from .helpers import REAL


def _base() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "pets", "version": "1"},
        "paths": {
            "/pets": {
                "get": {
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Pet"},
                                    }
                                }
                            },
                        }
                    },
                },
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}
                        },
                    },
                    "responses": {"201": {"description": "created"}},
                },
            },
            "/pets/{id}": {
                "delete": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"204": {"description": "gone"}},
                }
            },
        },
        "components": {
            "schemas": {
                "Pet": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "status": {"type": "string", "enum": ["available", "sold"]},
                        "tag": {"type": "string"},
                    },
                },
                "NewPet": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "status": {"type": "string", "enum": ["available", "sold"]},
                        "tag": {"type": "string"},
                    },
                },
            }
        },
    }


def _diff(change: Any) -> list[dict[str, Any]]:
    base = _base()
    rev = copy.deepcopy(base)
    change(rev)
    return diff_documents(base, rev)


def _find(changes: list[dict[str, Any]], rule_id: str) -> dict[str, Any]:
    hits = [c for c in changes if c["id"] == rule_id]
    assert hits, f"{rule_id} not in {[c['id'] for c in changes]}"
    return hits[0]


def test_identical_documents_have_no_changes() -> None:
    assert diff_documents(_base(), _base()) == []


def test_path_removed() -> None:
    changes = _diff(lambda d: d["paths"].pop("/pets/{id}"))
    change = _find(changes, "api-path-removed-without-deprecation")
    assert change["level"] == "ERR"
    assert change["operation"] == "DELETE" and change["path"] == "/pets/{id}"
    assert not is_compatible(changes)


def test_deprecated_path_removed_is_info() -> None:
    base = _base()
    base["paths"]["/pets/{id}"]["delete"]["deprecated"] = True
    rev = copy.deepcopy(base)
    rev["paths"].pop("/pets/{id}")
    change = _find(diff_documents(base, rev), "api-path-removed-with-deprecation")
    assert change["level"] == "INFO"


def test_renamed_path_parameter_is_no_change() -> None:
    def rename(d: dict[str, Any]) -> None:
        item = d["paths"].pop("/pets/{id}")
        item["delete"]["parameters"][0]["name"] = "petId"
        d["paths"]["/pets/{petId}"] = item

    assert _diff(rename) == []


def test_new_required_parameter() -> None:
    param = {"name": "owner", "in": "query", "required": True, "schema": {"type": "string"}}
    changes = _diff(lambda d: d["paths"]["/pets"]["get"]["parameters"].append(param))
    change = _find(changes, "new-required-request-parameter")
    assert change["level"] == "ERR"
    assert change["location"] == "parameter query.owner"


def test_new_optional_parameter_is_compatible() -> None:
    param = {"name": "owner", "in": "query", "schema": {"type": "string"}}
    changes = _diff(lambda d: d["paths"]["/pets"]["get"]["parameters"].append(param))
    assert _find(changes, "new-optional-request-parameter")["level"] == "INFO"
    assert is_compatible(changes)


def test_parameter_type_changed() -> None:
    def change(d: dict[str, Any]) -> None:
        d["paths"]["/pets"]["get"]["parameters"][0]["schema"] = {"type": "boolean"}

    assert _find(_diff(change), "request-parameter-type-changed")["level"] == "ERR"


def test_parameter_type_generalised_is_info() -> None:
    def change(d: dict[str, Any]) -> None:
        d["paths"]["/pets"]["get"]["parameters"][0]["schema"] = {"type": "number"}

    changes = _diff(change)
    assert _find(changes, "request-parameter-type-generalized")["level"] == "INFO"
    assert is_compatible(changes)


def test_response_property_type_changed() -> None:
    def change(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["Pet"]["properties"]["id"] = {"type": "string"}

    change_ = _find(_diff(change), "response-property-type-changed")
    assert change_["level"] == "ERR"
    assert "items/id" in change_["location"]


def test_request_property_became_required() -> None:
    changes = _diff(lambda d: d["components"]["schemas"]["NewPet"]["required"].append("tag"))
    change = _find(changes, "request-property-became-required")
    assert change["level"] == "ERR" and change["operation"] == "POST"


def test_response_property_became_optional() -> None:
    changes = _diff(lambda d: d["components"]["schemas"]["Pet"]["required"].remove("name"))
    assert _find(changes, "response-property-became-optional")["level"] == "ERR"


def test_response_required_property_removed() -> None:
    changes = _diff(lambda d: d["components"]["schemas"]["Pet"]["properties"].pop("name"))
    assert _find(changes, "response-required-property-removed")["level"] == "ERR"


def test_request_enum_value_removed_and_response_enum_value_added() -> None:
    def change(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["NewPet"]["properties"]["status"]["enum"] = ["available"]
        d["components"]["schemas"]["Pet"]["properties"]["status"]["enum"].append("pending")

    changes = _diff(change)
    assert _find(changes, "request-property-enum-value-removed")["level"] == "ERR"
    assert _find(changes, "response-property-enum-value-added")["level"] == "WARN"


def test_success_status_removed() -> None:
    def change(d: dict[str, Any]) -> None:
        d["paths"]["/pets"]["post"]["responses"] = {"200": {"description": "ok"}}

    changes = _diff(change)
    assert _find(changes, "response-success-status-removed")["level"] == "ERR"
    assert _find(changes, "response-success-status-added")["level"] == "INFO"


def test_constraints_and_nullable() -> None:
    def change(d: dict[str, Any]) -> None:
        name = d["components"]["schemas"]["NewPet"]["properties"]["name"]
        name["maxLength"] = 10
        pet_tag = d["components"]["schemas"]["Pet"]["properties"]["tag"]
        pet_tag["nullable"] = True

    changes = _diff(change)
    assert _find(changes, "request-property-max-length-set")["level"] == "WARN"
    assert _find(changes, "response-property-became-nullable")["level"] == "ERR"


def test_recursive_schema_terminates() -> None:
    def make_recursive(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["Pet"]["properties"]["parent"] = {
            "$ref": "#/components/schemas/Pet"
        }

    base = _base()
    make_recursive(base)
    rev = copy.deepcopy(base)
    rev["components"]["schemas"]["Pet"]["properties"]["id"] = {"type": "string"}
    assert _find(diff_documents(base, rev), "response-property-type-changed")


def test_documents_that_fail_validation_still_compare() -> None:
    base = _base()
    del base["paths"]["/pets"]["post"]["responses"]
    rev = copy.deepcopy(base)
    rev["paths"]["/pets"]["post"]["requestBody"]["required"] = False
    changes = diff_documents(base, rev)
    assert _find(changes, "request-body-became-optional")["level"] == "INFO"


def test_security_changes_are_reported() -> None:
    def change(d: dict[str, Any]) -> None:
        d["security"] = [{"key": []}]
        d["components"]["securitySchemes"] = {
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"}
        }

    ids = {c["id"] for c in _diff(change)}
    assert {"api-global-security-added", "api-security-component-added"} <= ids


SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "t", "version": "1"},
    "consumes": ["application/json"],
    "produces": ["application/json"],
    "paths": {
        "/pets": {
            "get": {
                "parameters": [{"name": "limit", "in": "query", "type": "integer", "maximum": 100}],
                "responses": {
                    "200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}
                },
            },
            "post": {
                "parameters": [
                    {
                        "name": "body",
                        "in": "body",
                        "required": True,
                        "schema": {"$ref": "#/definitions/Pet"},
                    }
                ],
                "responses": {"200": {"description": "ok"}},
            },
        }
    },
    "definitions": {
        "Pet": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "tag": {"type": "string"}},
        }
    },
}


def test_swagger_2_diff() -> None:
    rev = copy.deepcopy(SWAGGER)
    rev["paths"]["/pets"]["get"]["parameters"][0]["maximum"] = 50
    rev["definitions"]["Pet"]["required"].append("tag")
    changes = diff_documents(SWAGGER, rev)
    assert _find(changes, "request-parameter-max-decreased")["level"] == "ERR"
    assert _find(changes, "request-property-became-required")["level"] == "ERR"
    assert _find(changes, "response-property-became-required")["level"] == "INFO"

    # consumes/produces are the 2.0 spelling of request/response media types.
    rev = copy.deepcopy(SWAGGER)
    rev["paths"]["/pets"]["post"]["consumes"] = ["application/xml"]
    changes = diff_documents(SWAGGER, rev)
    assert _find(changes, "request-body-media-type-removed")["level"] == "ERR"
    assert _find(changes, "request-body-media-type-added")["level"] == "INFO"


def test_swagger_2_form_data_becomes_a_request_body() -> None:
    base = copy.deepcopy(SWAGGER)
    base["paths"]["/pets"]["put"] = {
        "parameters": [{"name": "name", "in": "formData", "type": "string"}],
        "responses": {"200": {"description": "ok"}},
    }
    rev = copy.deepcopy(base)
    rev["paths"]["/pets"]["put"]["parameters"][0]["required"] = True
    assert _find(diff_documents(base, rev), "request-property-became-required")


def test_diff_contracts_accepts_text() -> None:
    import json

    rev = _base()
    rev["paths"].pop("/pets/{id}")
    changes = diff_contracts(json.dumps(_base()), json.dumps(rev), "openapi")
    assert not is_compatible(changes)


def test_stripe_diff_is_fast() -> None:
    import time

    from contracts import load_document

    a = load_document((REAL / "stripe-2020-01-07.json").read_bytes(), "openapi")
    b = load_document((REAL / "stripe-2021-06-07.json").read_bytes(), "openapi")
    start = time.perf_counter()
    changes = diff_documents(a.data or {}, b.data or {})
    # The budget is 2 s; leave headroom for slow CI machines.
    assert time.perf_counter() - start < 6
    assert any(c["level"] == "ERR" for c in changes)


def test_wrapping_a_schema_into_all_of_keeps_its_properties() -> None:
    def wrap(d: dict[str, Any]) -> None:
        pet = d["components"]["schemas"]["Pet"]
        d["components"]["schemas"]["Pet"] = {"allOf": [pet, {"description": "a pet"}]}

    ids = {c["id"] for c in _diff(wrap)}
    assert "response-required-property-removed" not in ids
    assert "response-property-type-changed" not in ids
    assert "response-property-all-of-added" in ids


def test_media_type_parameters_and_suffixes_still_match() -> None:
    def change(d: dict[str, Any]) -> None:
        content = d["paths"]["/pets"]["get"]["responses"]["200"]["content"]
        content["application/problem+json; charset=utf-8"] = content.pop("application/json")

    assert [c["id"] for c in _diff(change) if c["level"] == "ERR"] == []


def test_operation_lifecycle_rules() -> None:
    base = _base()
    op = base["paths"]["/pets"]["get"]
    op.update({"deprecated": True, "x-sunset": "2030-01-01", "x-stability-level": "stable"})
    rev = copy.deepcopy(base)
    rev_op = rev["paths"]["/pets"]["get"]
    del rev_op["x-sunset"]
    rev_op["x-stability-level"] = "beta"
    ids = {c["id"]: c["level"] for c in diff_documents(base, rev)}
    assert ids["sunset-deleted"] == "ERR"
    assert ids["api-stability-decreased"] == "ERR"

    rev = copy.deepcopy(base)
    del rev["paths"]["/pets"]["get"]
    ids = {c["id"]: c["level"] for c in diff_documents(base, rev)}
    assert ids["api-removed-before-sunset"] == "ERR"


def test_parameter_default_changed_and_required_header_removed() -> None:
    base = _base()
    base["paths"]["/pets"]["get"]["parameters"][0]["schema"]["default"] = 20
    base["paths"]["/pets"]["get"]["responses"]["200"]["headers"] = {
        "X-Rate": {"required": True, "schema": {"type": "integer"}}
    }
    rev = copy.deepcopy(base)
    rev["paths"]["/pets"]["get"]["parameters"][0]["schema"]["default"] = 50
    del rev["paths"]["/pets"]["get"]["responses"]["200"]["headers"]
    ids = {c["id"]: c["level"] for c in diff_documents(base, rev)}
    assert ids["request-parameter-default-value-changed"] == "ERR"
    assert ids["required-response-header-removed"] == "ERR"


def test_webhooks_are_compared_like_paths() -> None:
    hook = {
        "post": {
            "requestBody": {"content": {"application/json": {"schema": {}}}},
            "responses": {"200": {"description": "ok"}},
        }
    }
    base = {**_base(), "openapi": "3.1.0", "webhooks": {"newPet": hook, "oldPet": hook}}
    rev = copy.deepcopy(base)
    del rev["webhooks"]["oldPet"]
    rev["webhooks"]["newPet"]["post"]["requestBody"]["required"] = True
    ids = {c["id"]: c["level"] for c in diff_documents(base, rev)}
    assert ids["webhook-removed"] == "ERR"
    assert ids["request-body-became-required"] == "ERR"
