"""Every app gets its telemetry ingestion secret on registration, shown exactly once."""

from __future__ import annotations

import base64

import pytest

from catalog.models import MicroApp
from tests.catalog.test_api import URL, payload

pytestmark = pytest.mark.django_db


def test_api_registration_answers_the_secret_once(api_as, alice, regions):
    client = api_as(alice)
    created = client.post(URL, payload(), format="json")

    assert created.status_code == 201
    secret = created.json()["ingestion_secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert created["Cache-Control"] == "no-store"
    assert MicroApp.objects.get().ingestion_secret == secret
    detail = client.get(f"{URL}ticket-router/").json()
    assert "ingestion_secret" not in detail
    assert secret not in str(client.get(URL).json())


def test_each_app_gets_its_own_secret(api_as, alice, regions):
    client = api_as(alice)
    first = client.post(URL, payload(), format="json").json()["ingestion_secret"]
    second = client.post(URL, payload(slug="other-app"), format="json").json()["ingestion_secret"]
    assert first != second


def test_the_app_page_shows_the_new_secret_once_to_its_owner(client, alice, regions):
    client.force_login(alice)
    from catalog.views.app import _secret_key

    app = MicroApp.objects.create(
        slug="fresh",
        name="Fresh",
        kind="widget",
        team=alice.appkeeper_teams.first(),
        owner=alice,
        ingestion_secret="whsec_dGVzdA==",
    )
    session = client.session
    session[_secret_key(app)] = app.ingestion_secret
    session.save()

    first = client.get("/apps/fresh/")
    again = client.get("/apps/fresh/")

    assert "whsec_dGVzdA==" in first.content.decode()
    assert first["Cache-Control"] == "no-store"
    assert "whsec_dGVzdA==" not in again.content.decode()
