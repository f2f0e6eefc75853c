"""Caps on Backstage imports answered in the request: entities (every kind counts, and the
file stops being read at the first one over), bytes, and a small answer for skipped kinds."""

from __future__ import annotations

import json

import pytest
import yaml

from catalog.models import ImportJob, MicroApp
from tests.catalog.backstage_support import components, post_yaml, resources

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def support_tools_lead(support_tools, alice):
    # Apps a group owns go to its team's lead (never to whoever imports them).
    support_tools.lead = alice
    support_tools.save(update_fields=["lead"])


def test_one_entity_over_the_cap_is_413_naming_the_limit_and_the_way_out(api_as, alice):
    response = post_yaml(api_as(alice), components(501), "?dry_run=true")

    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_many_entities" and body["limit"] == 500
    assert "more than 500 entities" in body["detail"]
    assert "?background=true" in body["detail"]
    assert not MicroApp.objects.exists() and not ImportJob.objects.exists()


def test_the_cap_is_configurable_and_exactly_the_cap_is_imported(api_as, alice, settings):
    settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES = 3
    client = api_as(alice)

    assert post_yaml(client, components(4)).json()["limit"] == 3
    response = post_yaml(client, components(3))
    assert response.status_code == 201, response.json()
    assert MicroApp.objects.count() == 3


def test_skipped_kinds_count_towards_the_cap(api_as, alice, settings):
    settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES = 10
    response = post_yaml(api_as(alice), components(1) + resources(10))
    assert response.status_code == 413


def test_sixty_thousand_resources_stop_being_read_at_the_first_over(api_as, alice, monkeypatch):
    """The cap is checked while the stream is scanned: no document is ever built."""
    composed = []
    load_all = yaml.load_all
    monkeypatch.setattr(yaml, "load_all", lambda *a, **kw: composed.append(1) or load_all(*a, **kw))

    response = post_yaml(api_as(alice), resources(60_000))

    assert response.status_code == 413
    assert len(response.content) < 400
    assert composed == []


def test_skipped_resources_are_counted_by_kind_and_listed(api_as, alice):
    response = post_yaml(api_as(alice), components(1) + resources(499), "?dry_run=true")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["skipped_kinds"] == {"Resource": 499}
    assert body["summary"] == {"created": 1, "skipped": 499}
    assert [e["kind"] for e in body["entities"]] == ["Component"] + ["Resource"] * 499
    assert body["entities"][1]["ref"] == "resource:default/bucket-0"


def test_empty_documents_do_not_count(api_as, alice, settings):
    settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES = 2
    text = "---\n" + components(2) + "---\n---\n~\n"
    assert post_yaml(api_as(alice), text).status_code == 201


def test_an_upload_over_the_byte_limit_is_413_before_parsing(api_as, alice, settings):
    settings.APPKEEPER_BACKSTAGE_MAX_BYTES = 2048
    client = api_as(alice)
    text = components(30)

    raw = post_yaml(client, text)
    assert raw.status_code == 413
    assert "the limit is 2048 bytes" in raw.json()["errors"][0]["message"]

    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("catalog-info.yaml", text.encode(), "application/yaml")
    as_file = client.post("/api/v1/apps/import/", {"file": upload}, format="multipart")
    assert as_file.status_code == 413
    as_json = client.post("/api/v1/apps/import/", {"yaml": text}, format="json")
    assert as_json.status_code == 413
    assert not MicroApp.objects.exists()


def test_team_is_only_for_background_imports(api_as, alice):
    response = post_yaml(api_as(alice), components(1), "?team=support-tools")
    assert response.status_code == 400
    assert "background" in json.dumps(response.json()["team"])
