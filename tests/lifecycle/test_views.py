"""Lifecycle pages and panels: the app page panel, renew, secret once, sunset forms, bell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from catalog import notifications
from catalog.choices import AppState
from catalog.models import Notification
from lifecycle.choices import SunsetReason
from lifecycle.models import Renewal, SunsetCase
from lifecycle.services.reminders import reminders_send
from tests.lifecycle.conftest import live_app

pytestmark = pytest.mark.django_db
WHY = "Still routes every support ticket we get."


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def due_app(app):
    app.expires_at = timezone.now() + timedelta(days=10)
    app.save()
    return app


def test_the_app_page_shows_the_lifecycle_panel_with_a_renew_form(due_app, alice):
    page = client_for(alice).get(due_app.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="panel-lifecycle"' in html
    assert "Renew</button>" in html
    assert "10 days left" in html or "9 days left" in html
    assert '<svg class="sparkline"' in html
    assert "Rotate secret" in html


def test_renew_page_from_the_reminder_link(due_app, alice):
    client = client_for(alice)
    url = f"/apps/{due_app.slug}/renew/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"justification": "too short"}).status_code == 400
    response = client.post(url, {"justification": WHY})
    assert response.status_code == 302
    assert Renewal.objects.filter(app=due_app).count() == 1
    page = client.get(response["Location"])
    assert "renewed until" in page.content.decode()


def test_renew_page_is_forbidden_to_non_owners(due_app, carol):
    assert client_for(carol).get(f"/apps/{due_app.slug}/renew/").status_code == 403


def test_the_platform_team_renews_any_app_from_its_page(due_app, pat):
    client = client_for(pat)
    assert "Renew</button>" in client.get(due_app.get_absolute_url()).content.decode()
    response = client.post(f"/apps/{due_app.slug}/renew/", {"justification": WHY})
    assert response.status_code == 302
    assert Renewal.objects.get(app=due_app).renewed_by == pat


def test_rotating_shows_the_secret_once_and_never_caches_it(app, alice):
    client = client_for(alice)
    response = client.post(f"/apps/{app.slug}/rotate-secret/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    app.refresh_from_db()
    assert app.ingestion_secret in response.content.decode()
    assert app.ingestion_secret not in client.get(app.get_absolute_url()).content.decode()
    assert client.get(f"/apps/{app.slug}/rotate-secret/").status_code == 405


def test_owner_contests_and_platform_upholds_through_the_forms(app, alice, pat):
    app.state = AppState.SUNSETTING
    app.save()
    case = SunsetCase.objects.create(
        app=app,
        reason=SunsetReason.LOW_USAGE,
        grace_ends_at=timezone.now() + timedelta(days=14),
        figures={"requests": 3, "threshold": 100, "days": 90},
    )
    page = client_for(alice).get(app.get_absolute_url()).content.decode()
    assert "Sunset case #" in page and "Send answer" in page
    client_for(alice).post(
        f"/sunset-cases/{case.pk}/respond/", {"response": "contest", "justification": WHY}
    )
    case.refresh_from_db()
    assert case.response == "contest"
    assert "Decide</button>" in client_for(pat).get(app.get_absolute_url()).content.decode()
    client_for(pat).post(f"/sunset-cases/{case.pk}/decide/", {"decision": "uphold"})
    app.refresh_from_db()
    assert app.state == AppState.ACTIVE
    assert client_for(pat).get("/sunset-cases/?status=closed").status_code == 200


@pytest.fixture
def open_case(app):
    app.state = AppState.SUNSETTING
    app.save()
    return SunsetCase.objects.create(
        app=app,
        reason=SunsetReason.LOW_USAGE,
        grace_ends_at=timezone.now() + timedelta(days=14),
        figures={"requests": 3, "threshold": 100, "days": 90},
    )


def answer_form(html: str, case) -> str:
    start = html.index(f'action="/sunset-cases/{case.pk}/respond/"')
    return html[start : html.index("</form>", start)]


def test_the_sunset_answer_is_one_labelled_form_to_accept_or_contest(open_case, alice):
    html = client_for(alice).get(open_case.app.get_absolute_url()).content.decode()
    form = answer_form(html, open_case)
    assert f'aria-labelledby="sunset-answer-title-{open_case.pk}"' in form
    assert "<legend>Do you accept retiring" in form
    assert ">Accept<span" in form and ">Contest<span" in form
    assert "Accepted" not in form and "Contested" not in form
    assert f'<label for="sunset-justification-{open_case.pk}">Justification' in form
    assert html.count("/respond/") == 1  # one form, not one per choice
    assert 'style="' not in html and "<style" not in html


def test_a_contest_without_a_reason_comes_back_with_the_error_next_to_the_field(open_case, alice):
    client = client_for(alice)
    url = f"/sunset-cases/{open_case.pk}/respond/"
    response = client.post(url, {"response": "contest", "justification": "Because."})
    assert response.status_code == 400
    form = answer_form(response.content.decode(), open_case)
    assert "Explain in at least 20 characters." in form
    assert 'aria-invalid="true">Because.</textarea>' in form  # what was typed is kept
    assert f'id="sunset-justification-error-{open_case.pk}"' in form
    assert 'value="contest" required checked' in form
    open_case.refresh_from_db()
    assert open_case.response == ""

    nothing = client.post(url, {})
    assert nothing.status_code == 400
    assert "Choose whether you accept or contest the sunset." in nothing.content.decode()
    assert client.get(url).status_code == 200


def test_accepting_the_sunset_retires_the_app_and_returns_to_it(open_case, alice):
    response = client_for(alice).post(
        f"/sunset-cases/{open_case.pk}/respond/", {"response": "accept"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#panel-lifecycle")
    open_case.app.refresh_from_db()
    assert open_case.app.state == AppState.RETIRED


def test_notifications_page_shows_new_ones_and_the_dashboard_shows_the_bell(app, alice):
    notifications.notify(
        recipient=alice, app=app, kind="x", subject="Hello there", body="b", dedupe_key="v1"
    )
    client = client_for(alice)
    dashboard = client.get("/").content.decode()
    assert 'id="panel-notifications"' in dashboard and "Hello there" in dashboard
    page = client.get("/me/notifications/").content.decode()
    assert "Hello there" in page and "new</span>" in page
    client.post("/me/notifications/")
    assert Notification.objects.unread_for(alice).count() == 0
    assert "new</span>" not in client.get("/me/notifications/").content.decode()


def test_mark_all_read_counts_the_items_just_shown_as_new(app, alice):
    for n in range(3):
        notifications.notify(
            recipient=alice, app=app, kind="x", subject=f"Note {n}", body="b", dedupe_key=f"{n}"
        )
    client = client_for(alice)
    page = client.get("/me/notifications/").content.decode()
    assert page.count("new</span>") == 3
    response = client.post("/me/notifications/", follow=True)
    body = response.content.decode()
    assert "Marked 3 notifications read." in body
    assert "new</span>" not in body
    again = client.post("/me/notifications/", follow=True).content.decode()
    assert "Marked 0 notifications read." in again


def test_dashboard_lists_apps_due_for_renewal_with_a_renew_button(due_app, alice):
    html = client_for(alice).get("/").content.decode()
    assert f"/apps/{due_app.slug}/renew/" in html


def test_the_app_page_renders_after_a_job_changed_the_app(app, alice):
    from lifecycle import services

    app.expires_at = timezone.now() - timedelta(hours=1)
    app.save()
    services.apps_expire()
    assert client_for(alice).get(app.get_absolute_url()).status_code == 200


def test_renew_row_action_shows_only_inside_the_window(due_app, app, alice, carol):
    from django.template import Context, Template
    from django.test import RequestFactory

    template = Template("{% load ui %}{% app_row_actions app %}")
    request = RequestFactory().get("/")
    request.user = alice
    assert "/renew/" in template.render(Context({"app": due_app, "request": request}))
    request.user = carol
    assert "/renew/" not in template.render(Context({"app": due_app, "request": request}))


@pytest.mark.parametrize(
    ("days_left", "says"),
    [(3, "in 3 days"), (6.6, "in 7 days"), (1.2, "in 29 hours"), (0.3, "in 7 hours")],
)
def test_reminder_notification_says_the_days_actually_left(alice, support_tools, days_left, says):
    # The reminders go out at 30/14/7/1 days; an app first seen 3 days out gets the 7-day
    # reminder, and its owner must read "in 3 days", not the reminder's bucket. Under two
    # days the hours are given: "tomorrow" or "today" could be wrong by most of a day.
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), tick=False):
        live_app(days_left=days_left, team=support_tools, owner=alice, name="Ticket Router")
        assert reminders_send() == 1
        page = client_for(alice).get("/me/notifications/").content.decode()
    assert f"Ticket Router is due for expiry {says}" in page


def test_renew_and_sunset_pages_state_the_configured_numbers(due_app, alice, settings):
    settings.APPKEEPER_EXPIRY_DAYS = 60
    settings.APPKEEPER_SUNSET_RESPONSE_DAYS = 10
    client = client_for(alice)
    renew = client.get(f"/apps/{due_app.slug}/renew/").content.decode()
    assert "A renewal extends it by 60 days from today" in renew
    cases = client.get("/sunset-cases/").content.decode()
    assert "Owners answer within 10 days;" in cases
