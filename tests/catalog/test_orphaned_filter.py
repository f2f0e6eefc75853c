"""``?orphaned=true``: the apps whose owner left with nobody to take over, in the API list
and on the catalog page (one FilterSet); an empty value means any app."""

from __future__ import annotations

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/apps/"


@pytest.fixture
def fleet(alice, support_tools):
    gone = UserFactory(username="gone", is_active=False)
    MicroAppFactory(
        owner=gone, team=support_tools, slug="orphan", name="Orphan", orphaned_at=timezone.now()
    )
    MicroAppFactory(owner=alice, team=support_tools, slug="owned", name="Owned")


def _slugs(response) -> list[str]:
    return sorted(app["slug"] for app in response.json()["results"])


def test_the_api_filters_orphaned_apps(api_as, alice, fleet):
    client = api_as(alice)
    assert _slugs(client.get(API, {"orphaned": "true"})) == ["orphan"]
    assert _slugs(client.get(API, {"orphaned": "false"})) == ["owned"]
    assert _slugs(client.get(API, {"orphaned": ""})) == ["orphan", "owned"]
    assert client.get(API, {"orphaned": "maybe"}).status_code == 400


def test_the_schema_admits_the_filter_and_its_empty_value():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = schema["paths"]["/api/v1/apps/"]["get"]["parameters"]
    orphaned = next(p for p in parameters if p["name"] == "orphaned")
    assert {"type": "string", "enum": [""]} in orphaned["schema"]["anyOf"]


def test_the_catalog_page_filters_and_flags_orphaned_apps(client, alice, fleet):
    client.force_login(alice)
    html = client.get("/apps/", {"orphaned": "true"}).content.decode()
    assert "Orphan</a>" in html and "Owned</a>" not in html
    assert '<option value="true" selected>Orphaned: needs an owner</option>' in html
    assert "No owner</span>" in html
    assert "Move apps to another owner" not in html  # for the platform team only


def test_the_platform_team_gets_the_transfer_link_on_the_catalog(client, pat, fleet):
    client.force_login(pat)
    assert 'href="/apps/transfer/"' in client.get("/apps/").content.decode()
