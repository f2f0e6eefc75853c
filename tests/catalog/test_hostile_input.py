"""Hostile request bodies get a clear 4xx, never a 500, and nothing is written."""

from __future__ import annotations

import pytest

from catalog.models import MicroApp

pytestmark = pytest.mark.django_db

URL = "/api/v1/apps/"


def test_body_over_the_limit_is_413_before_parsing(client, alice, settings):
    settings.APPKEEPER_MAX_REQUEST_BYTES = 1024
    client.force_login(alice)
    response = client.post(URL, data="x" * 2048, content_type="application/json")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_json_nested_deeper_than_64_levels_is_400(api_as, alice):
    body = "[" * 65 + "]" * 65
    response = api_as(alice).post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert "64" in response.json()["detail"]


def test_json_nested_beyond_the_recursion_limit_is_400(api_as, alice):
    body = "[" * 100_000 + "]" * 100_000
    response = api_as(alice).post(URL, data=body, content_type="application/json")
    assert response.status_code == 400


def test_64_levels_are_still_accepted_by_the_parser(api_as, alice, regions):
    tags = "[" * 63 + "]" * 63
    body = f'{{"tags": {tags}}}'
    response = api_as(alice).post(URL, data=body, content_type="application/json")
    # Parsed fine; refused by validation with a field message, not by the parser.
    assert response.status_code == 400
    assert "tags" in response.json()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
def test_non_json_content_type_is_415(api_as, alice, content_type):
    response = api_as(alice).post(URL, data="name=x", content_type=content_type)
    assert response.status_code == 415
    assert not MicroApp.objects.exists()


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b'{"name": NaN}', b"null", b"[]", b'"string"'])
def test_garbage_json_is_400(api_as, alice, body):
    response = api_as(alice).post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
