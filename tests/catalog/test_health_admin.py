from __future__ import annotations

from unittest import mock

import pytest

from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_broker_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "cache": "ok"}


def test_healthz_is_503_when_the_broker_is_down(client):
    with mock.patch("core.views._broker", return_value="error: OperationalError"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/catalog/microapp/",
        "/admin/catalog/team/",
        "/admin/catalog/region/",
        "/admin/catalog/auditevent/",
        "/admin/catalog/contract/",
        "/admin/catalog/review/",
        "/admin/catalog/notification/",
    ],
)
def test_admin_lists_load_for_the_platform_team(client, admin_user, path):
    MicroAppFactory(state="active")
    client.force_login(admin_user)
    response = client.get(path, {"q": "app"})
    assert response.status_code == 200


def test_admin_cannot_delete_apps_or_audit_events(client, admin_user):
    app = MicroAppFactory()
    client.force_login(admin_user)
    response = client.get(f"/admin/catalog/microapp/{app.pk}/delete/")
    assert response.status_code == 403


def test_admin_edit_writes_an_audit_event(client, admin_user):
    app = MicroAppFactory(name="Before")
    client.force_login(admin_user)
    page = client.get(f"/admin/catalog/microapp/{app.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: (value if value is not None else "")
        for name, value in form.initial.items()
        if name not in ("regions", "depends_on", "tags")
    }
    data.update(
        name="After",
        tags="[]",
        team=app.team_id,
        owner=app.owner_id,
        **{"audit_events-TOTAL_FORMS": "0", "audit_events-INITIAL_FORMS": "0"},
    )
    response = client.post(f"/admin/catalog/microapp/{app.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = app.audit_events.get(action="updated")
    assert event.changes["name"] == ["Before", "After"]
    assert event.actor == admin_user
