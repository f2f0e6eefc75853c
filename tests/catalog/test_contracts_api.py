"""The contract registry over HTTP: upload, versions, changelog, CI dry run, hostile input."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import pytest
import yaml

from catalog.models import AuditEvent, Contract
from tests.contracts.helpers import REAL
from tests.contracts.test_documents import BILLION_LAUGHS as DOCUMENT_BOMB
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db

PETSTORE_V1 = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1.0.0"},
    "paths": {
        "/pets": {
            "get": {
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer"},
                    },
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/pets/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
}


def v2_breaking() -> dict:
    doc = json.loads(json.dumps(PETSTORE_V1))
    doc["info"]["version"] = "2.0.0"
    del doc["paths"]["/pets/{id}"]
    doc["paths"]["/pets"]["get"]["parameters"][0]["required"] = True
    return doc


@pytest.fixture
def app(alice, support_tools):
    return MicroAppFactory(slug="pets", team=support_tools, owner=alice, state="active")


def url(slug="pets", rest=""):
    return f"/api/v1/apps/{slug}/contracts/{rest}"


def test_upload_stores_a_version_labelled_from_info_version(api_as, alice, app):
    response = api_as(alice).post(url(), {"spec": PETSTORE_V1}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == "1.0.0"
    assert body["spec_version"] == "3.0.3"
    assert body["created"] is True
    contract = Contract.objects.get()
    assert contract.is_valid and contract.document["info"]["title"] == "Pets"
    assert AuditEvent.objects.filter(app=app, action="contract_uploaded").count() == 1


def test_identical_content_is_not_stored_twice(api_as, alice, app):
    client = api_as(alice)
    client.post(url(), {"spec": PETSTORE_V1}, format="json")
    # Same document, different key order and as YAML text.
    text = yaml.safe_dump(dict(reversed(list(PETSTORE_V1.items()))))
    response = client.post(url(), {"spec": text, "kind": "openapi"}, format="json")

    assert response.status_code == 200
    assert response.json()["created"] is False
    assert Contract.objects.count() == 1


def test_breaking_upload_is_allowed_but_reported_and_audited(api_as, alice, app):
    client = api_as(alice)
    client.post(url(), {"spec": PETSTORE_V1}, format="json")

    response = client.post(url(), {"spec": v2_breaking()}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["breaking"] is True
    ids = {c["id"] for c in body["changes"] if c["level"] == "ERR"}
    assert "api-path-removed-without-deprecation" in ids
    assert "request-parameter-became-required" in ids
    event = AuditEvent.objects.filter(action="contract_uploaded").first()
    assert {c["id"] for c in event.data["breaking_changes"]} >= ids


def test_invalid_document_is_refused_with_all_errors_and_nothing_stored(api_as, alice, app):
    broken = {"openapi": "3.0.3", "info": {"title": "x"}, "paths": {"/a": {"get": {}}}}
    response = api_as(alice).post(url(), {"spec": broken}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) >= 2  # info.version and the missing responses
    assert all(e["path"].startswith("$") for e in errors)
    assert not Contract.objects.exists()


def test_file_upload_of_a_real_swagger_2_document(api_as, alice, app):
    path = REAL / "oai-2.0-petstore.yaml"
    with path.open("rb") as handle:
        response = api_as(alice).post(url(), {"file": handle, "version": "s2"}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["spec_version"] == "2.0"


def test_graphql_contract_and_its_breaking_change(api_as, alice, app):
    client = api_as(alice)
    v1 = "type Query { pets(limit: Int): [String] owner: String }"
    v2 = "type Query { pets(limit: Int!): [String] }"
    assert client.post(url(), {"spec": v1, "kind": "graphql"}, format="json").status_code == 201
    response = client.post(url(), {"spec": v2, "kind": "graphql"}, format="json")
    body = response.json()
    assert body["version"] == "v2"
    assert body["breaking"] is True
    assert {c["level"] for c in body["changes"]} == {"ERR"}


def test_versions_list_detail_document_and_changelog(api_as, alice, carol, app):
    client = api_as(alice)
    client.post(url(), {"spec": PETSTORE_V1}, format="json")
    client.post(url(), {"spec": v2_breaking()}, format="json")

    reader = api_as(carol)  # another team may read a live app's contracts
    listing = reader.get(url()).json()
    assert [c["version"] for c in listing] == ["2.0.0", "1.0.0"]
    detail = reader.get(url(rest="1.0.0/")).json()
    assert detail["document"]["info"]["version"] == "1.0.0"
    document = reader.get(url(rest="2.0.0/document/"))
    assert document["Content-Type"] == "application/json"
    assert "/pets/{id}" not in document.json()["paths"]
    changelog = reader.get(url(rest="changelog/"), {"from": "1.0.0", "to": "2.0.0"}).json()
    assert changelog["compatible"] is False
    backwards = reader.get(url(rest="changelog/"), {"from": "2.0.0", "to": "1.0.0"}).json()
    assert backwards["changes"] == changelog["changes"]
    assert reader.get(url(rest="changelog/"), {"from": "1.0.0", "to": "9"}).status_code == 404


def test_only_owners_upload(api_as, carol, app):
    response = api_as(carol).post(url(), {"spec": PETSTORE_V1}, format="json")
    assert response.status_code == 403
    assert not Contract.objects.exists()


def test_explicit_version_label_clash_is_a_field_error(api_as, alice, app):
    client = api_as(alice)
    client.post(url(), {"spec": PETSTORE_V1, "version": "one"}, format="json")
    response = client.post(url(), {"spec": v2_breaking(), "version": "one"}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()


def test_ci_dry_run_reports_and_writes_nothing(api_as, alice, app):
    client = api_as(alice)
    client.post(url(), {"spec": PETSTORE_V1}, format="json")
    before = (Contract.objects.count(), AuditEvent.objects.count())

    response = client.post(
        "/api/v1/contracts/check/",
        {"app": "pets", "spec": v2_breaking(), "kind": "openapi"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "valid",
        "errors",
        "spec_version",
        "base_version",
        "changes",
        "change_counts",
        "compatible",
        "impact",
    }
    assert body["impact"]["summary"]["dependents"] == 0
    assert body["change_counts"]["ERR"] == 2
    assert body["valid"] is True
    assert body["base_version"] == "1.0.0"
    assert body["compatible"] is False
    assert (Contract.objects.count(), AuditEvent.objects.count()) == before


def test_ci_dry_run_for_a_first_version_and_an_invalid_one(api_as, alice, app):
    client = api_as(alice)
    first = client.post(
        "/api/v1/contracts/check/", {"app": "pets", "spec": PETSTORE_V1}, format="json"
    ).json()
    assert first["base_version"] is None and first["compatible"] is True
    bad = client.post(
        "/api/v1/contracts/check/",
        {"app": "pets", "spec": {"openapi": "3.0.3", "paths": {}}},
        format="json",
    ).json()
    assert bad["valid"] is False and bad["compatible"] is False and bad["errors"]
    unknown = client.post(
        "/api/v1/contracts/check/", {"app": "nope", "spec": PETSTORE_V1}, format="json"
    )
    assert unknown.status_code == 400 and "app" in unknown.json()


def test_contract_check_command_exits_1_on_breaking_changes(api_as, alice, app, tmp_path):
    from django.core.management import call_command

    api_as(alice).post(url(), {"spec": PETSTORE_V1}, format="json")
    candidate = tmp_path / "openapi.json"
    candidate.write_text(json.dumps(v2_breaking()))
    with pytest.raises(SystemExit) as exit_info:
        call_command("contract_check", str(candidate), "--app", "pets")
    assert exit_info.value.code == 1
    compatible = tmp_path / "same.json"
    compatible.write_text(json.dumps(PETSTORE_V1))
    call_command("contract_check", str(compatible), "--app", "pets")  # exits 0


# --- hostile input ------------------------------------------------------------------------

BILLION_LAUGHS = DOCUMENT_BOMB + "openapi: 3.0.3\n"


def test_yaml_aliases_are_refused_fast(api_as, alice, app):
    started = time.monotonic()
    response = api_as(alice).post(url(), {"spec": BILLION_LAUGHS, "kind": "openapi"}, format="json")
    assert response.status_code == 400
    assert time.monotonic() - started < 1.0
    assert not Contract.objects.exists()


@pytest.mark.parametrize(
    "ref",
    [
        "http://127.0.0.1:{port}/x.yaml",
        "https://127.0.0.1:{port}/x.yaml",
        "file:///etc/passwd",
        "ftp://127.0.0.1:{port}/x.yaml",
        "other.yaml#/components/schemas/Pet",
    ],
)
def test_non_local_refs_are_refused_without_any_connection(api_as, alice, app, ref):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    connections = []

    def watch():
        with contextlib.suppress(OSError):  # the timeout: nobody connected, as required
            connections.append(listener.accept())

    watcher = threading.Thread(target=watch)
    watcher.start()
    target = ref.format(port=port)
    doc = json.loads(json.dumps(PETSTORE_V1))
    doc["paths"]["/pets"]["get"]["responses"]["200"]["content"] = {
        "application/json": {"schema": {"$ref": target}}
    }
    try:
        upload = api_as(alice).post(url(), {"spec": doc}, format="json")
        check = api_as(alice).post(
            "/api/v1/contracts/check/", {"app": "pets", "spec": doc}, format="json"
        )
    finally:
        watcher.join()
        listener.close()

    assert upload.status_code == 400 and check.status_code == 400
    assert target in json.dumps(upload.json())
    assert connections == []
    assert not Contract.objects.exists()


def test_documents_over_10_mb_are_413(api_as, alice, app):
    doc = json.loads(json.dumps(PETSTORE_V1))
    doc["info"]["description"] = "x" * (10 * 1024 * 1024 + 10)
    response = api_as(alice).post(url(), {"spec": doc}, format="json")
    assert response.status_code == 413
    assert not Contract.objects.exists()


def test_nesting_deeper_than_200_is_400(api_as, alice, app):
    text = "openapi: 3.0.3\nx: " + "[" * 201 + "]" * 201 + "\n"
    response = api_as(alice).post(url(), {"spec": text, "kind": "openapi"}, format="json")
    assert response.status_code == 400
    assert "200" in json.dumps(response.json())


@pytest.mark.parametrize(
    ("text", "where"),
    [('{"openapi": "3.0.3",\n  "info": }', "line 2"), ("openapi: 3.0.3\ninfo: [a\n", "line")],
)
def test_malformed_documents_report_line_and_column(api_as, alice, app, text, where):
    response = api_as(alice).post(url(), {"spec": text, "kind": "openapi"}, format="json")
    assert response.status_code == 400
    dumped = json.dumps(response.json()).lower()
    assert where in dumped and "column" in dumped


def test_huge_changelogs_are_capped_worst_first_with_exact_counts():
    from catalog.contract_services import MAX_REPORTED_CHANGES, summarise

    changes = [{"id": "x", "level": level} for level in ["INFO"] * 1500 + ["ERR"] * 3]
    shown, counts = summarise(changes)
    assert len(shown) == MAX_REPORTED_CHANGES
    assert [c["level"] for c in shown[:3]] == ["ERR"] * 3
    assert counts == {"ERR": 3, "WARN": 0, "INFO": 1500}
