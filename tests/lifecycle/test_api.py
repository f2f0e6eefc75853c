"""Lifecycle API: renew, rotate-secret, renewals, sunset cases — auth and roles included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.choices import AppState
from lifecycle.choices import SunsetReason
from lifecycle.models import Renewal, SunsetCase

pytestmark = pytest.mark.django_db
WHY = "Still routes every support ticket we get."


@pytest.fixture
def due_app(app):
    app.expires_at = timezone.now() + timedelta(days=10)
    app.save()
    return app


def renew_url(app):
    return f"/api/v1/apps/{app.slug}/renew/"


def test_anonymous_callers_are_refused(api, due_app):
    assert api.post(renew_url(due_app), {"justification": WHY}).status_code in (401, 403)
    assert api.get("/api/v1/sunset-cases/").status_code in (401, 403)
    assert api.post(f"/api/v1/apps/{due_app.slug}/rotate-secret/").status_code in (401, 403)


def test_owner_and_team_members_renew(api_as, due_app, bob):
    response = api_as(bob).post(renew_url(due_app), {"justification": WHY})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["renewed_by"] == "bob" and data["app_state"] == "active"
    assert api_as(bob).get(f"/api/v1/apps/{due_app.slug}/renewals/").json()[0]["id"] == data["id"]


@pytest.mark.parametrize("who", ["carol", "fin"])
def test_others_cannot_renew(api_as, due_app, who, request):
    user = request.getfixturevalue(who)
    assert api_as(user).post(renew_url(due_app), {"justification": WHY}).status_code == 403
    assert not Renewal.objects.exists()


def test_the_platform_team_renews_any_app(api_as, due_app, pat):
    response = api_as(pat).post(renew_url(due_app), {"justification": WHY})
    assert response.status_code == 201, response.content
    assert response.json()["renewed_by"] == "pat"


def test_short_justification_is_400_and_outside_the_window_is_409(api_as, app, alice):
    assert api_as(alice).post(renew_url(app), {"justification": "short"}).status_code == 400
    response = api_as(alice).post(renew_url(app), {"justification": WHY})  # 90 days left
    assert response.status_code == 409
    assert "Renewal opens" in response.json()["detail"]
    assert response.json()["code"] == "renewal_not_allowed"  # the refusal's own code


def test_rotate_secret_shows_it_once_and_not_in_the_app(api_as, app, alice, carol, pat):
    assert api_as(carol).post(f"/api/v1/apps/{app.slug}/rotate-secret/").status_code == 403
    response = api_as(pat).post(f"/api/v1/apps/{app.slug}/rotate-secret/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.json()["secret"]
    assert secret.startswith("whsec_") and response.json()["previous_secret_valid_until"]
    detail = api_as(alice).get(f"/api/v1/apps/{app.slug}/").content.decode()
    assert secret not in detail and "whsec_" not in detail


def test_retired_apps_get_no_secret(api_as, app, alice):
    app.state = AppState.RETIRED
    app.save()
    response = api_as(alice).post(f"/api/v1/apps/{app.slug}/rotate-secret/")
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"


@pytest.fixture
def case(app):
    app.state = AppState.SUNSETTING
    app.save()
    return SunsetCase.objects.create(
        app=app,
        reason=SunsetReason.LOW_USAGE,
        grace_ends_at=timezone.now() + timedelta(days=14),
        figures={"requests": 3, "threshold": 100, "days": 90},
    )


def test_sunset_cases_list_and_filter(api_as, case, carol):
    data = api_as(carol).get("/api/v1/sunset-cases/", {"status": "awaiting_owner"}).json()
    assert [c["id"] for c in data["results"]] == [case.pk]
    assert data["results"][0]["figures"]["requests"] == 3
    closed = api_as(carol).get("/api/v1/sunset-cases/", {"status": "closed"}).json()
    assert closed["results"] == []
    by_team = api_as(carol).get("/api/v1/sunset-cases/", {"team": "support-tools"}).json()
    assert by_team["count"] == 1


def test_sunset_cases_treat_empty_filters_as_no_filter(api_as, case, carol):
    empty = {"status": "", "reason": "", "team": "", "app": "", "app_id": "", "team_id": ""}
    response = api_as(carol).get("/api/v1/sunset-cases/", empty)
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [case.pk]


def test_respond_contest_then_platform_decides(api_as, case, alice, carol, pat):
    url = f"/api/v1/sunset-cases/{case.pk}/"
    assert api_as(carol).post(url + "respond/", {"response": "accept"}).status_code == 403
    assert api_as(alice).post(url + "respond/", {"response": "contest"}).status_code == 400
    response = api_as(alice).post(url + "respond/", {"response": "contest", "justification": WHY})
    assert response.status_code == 200 and response.json()["status"] == "awaiting_decision"
    assert api_as(alice).post(url + "decide/", {"decision": "uphold"}).status_code == 403
    response = api_as(pat).post(url + "decide/", {"decision": "uphold", "comment": "ok"})
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "reactivated"
    again = api_as(pat).post(url + "decide/", {"decision": "retire"})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_accept_retires_now(api_as, case, alice):
    response = api_as(alice).post(
        f"/api/v1/sunset-cases/{case.pk}/respond/", {"response": "accept"}
    )
    assert response.status_code == 200 and response.json()["outcome"] == "retired"
    case.app.refresh_from_db()
    assert case.app.state == AppState.RETIRED


def test_schema_documents_the_lifecycle_endpoints(api_as, alice):
    schema = api_as(alice).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    expected = [
        "/api/v1/telemetry/",
        "/api/v1/apps/{slug}/renew/",
        "/api/v1/apps/{slug}/rotate-secret/",
        "/api/v1/sunset-cases/",
        "/api/v1/sunset-cases/{id}/respond/",
        "/api/v1/sunset-cases/{id}/decide/",
    ]
    assert [p for p in expected if p not in paths] == []
