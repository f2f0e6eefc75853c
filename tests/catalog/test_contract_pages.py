"""Contract pages as owners and readers use them."""

from __future__ import annotations

import json

import pytest

from catalog.models import Contract
from tests.catalog.test_contracts_api import PETSTORE_V1, v2_breaking
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(alice, support_tools):
    return MicroAppFactory(
        slug="pets", name="Pets", team=support_tools, owner=alice, state="active"
    )


def upload(client, doc, **extra):
    return client.post("/apps/pets/contracts/upload/", {"text": json.dumps(doc), **extra})


def test_owner_uploads_from_the_app_page_and_sees_the_breaking_banner(client, alice, app):
    client.force_login(alice)
    page = client.get("/apps/pets/")
    assert "No contract yet" in page.content.decode()
    assert "Upload a new version" in page.content.decode()

    assert upload(client, PETSTORE_V1).status_code == 302
    response = upload(client, v2_breaking())
    assert response.status_code == 302
    page = client.get("/apps/pets/").content.decode()

    assert "Version 2.0.0 has 2 breaking changes" in page
    assert "api-path-removed-without-deprecation" in page
    assert Contract.objects.count() == 2


def test_an_invalid_document_shows_every_problem_and_stores_nothing(client, alice, app):
    client.force_login(alice)
    response = upload(client, {"openapi": "3.0.3", "paths": {"/a": {"get": {}}}})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was stored" in html
    assert html.count("<li><code>$") >= 2
    assert not Contract.objects.exists()


def test_other_teams_cannot_upload_and_see_no_form(client, alice, carol, app):
    client.force_login(carol)
    assert "Upload a new version" not in client.get("/apps/pets/").content.decode()
    assert upload(client, PETSTORE_V1).status_code == 403


def test_docs_page_uses_the_local_swagger_ui_and_the_changelog_compares(client, alice, app):
    client.force_login(alice)
    upload(client, PETSTORE_V1)
    upload(client, v2_breaking())

    docs = client.get("/apps/pets/contracts/1.0.0/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    # Appkeeper's contrast fixes load after Swagger UI's stylesheet, so they win.
    assert docs.index("swagger-ui-dist/swagger-ui.css") < docs.index("/css/swagger-ui.css")
    assert "/api/v1/apps/pets/contracts/1.0.0/document/" in docs
    changelog = client.get("/apps/pets/contracts/changelog/", {"from": "1.0.0", "to": "2.0.0"})
    html = changelog.content.decode()
    assert "Breaking" in html and "request-parameter-became-required" in html
    assert client.get("/apps/pets/contracts/changelog/", {"from": "x"}).status_code == 404


def test_graphql_docs_show_the_sdl(client, alice, app):
    client.force_login(alice)
    client.post(
        "/apps/pets/contracts/upload/", {"text": "type Query { pets: [String] }", "kind": "graphql"}
    )
    html = client.get("/apps/pets/contracts/v1/").content.decode()
    assert "type Query" in html


@pytest.mark.parametrize("versions", [2, 12])
def test_app_page_with_contracts_has_a_fixed_query_budget(
    client, alice, app, versions, django_assert_max_num_queries
):
    for n in range(versions):
        doc = json.loads(json.dumps(PETSTORE_V1))
        doc["info"]["version"] = f"1.{n}.0"
        doc["paths"][f"/extra{n}"] = doc["paths"]["/pets"]
        Contract.objects.create(
            app=app,
            kind="openapi",
            version=f"1.{n}.0",
            document=doc,
            sha256=str(n),
            spec_version="3.0.3",
        )
    client.force_login(alice)
    with django_assert_max_num_queries(30):
        assert client.get("/apps/pets/").status_code == 200
