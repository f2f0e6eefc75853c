"""The "API tokens" page: issuing (value shown once), inline errors, revoking, warnings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from catalog.models import AuditEvent
from core import tokens
from core.models import ApiToken

pytestmark = pytest.mark.django_db

PAGE = "/me/tokens/"


def test_the_page_is_for_signed_in_users_and_linked_from_the_navigation(client, alice):
    assert client.get(PAGE).status_code == 302
    client.force_login(alice)
    dashboard = client.get("/").content.decode()
    assert f'href="{PAGE}"' in dashboard and "API tokens" in dashboard
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "No tokens yet" in page.content.decode()


def test_creating_shows_the_value_once_and_it_works(client, alice):
    client.force_login(alice)
    response = client.post(PAGE, {"name": "deploy pipeline", "lifetime": "30"})

    assert response.status_code == 201
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )
    html = response.content.decode()
    value = re.search(r'<code id="new-token">(apk_[A-Za-z0-9_-]+)</code>', html).group(1)
    assert "shown only this once" in html
    token = ApiToken.objects.get(user=alice)
    assert token.digest == tokens.digest(value)
    assert token.expires_at - token.created == timedelta(days=30)
    # Back on the page the value is gone for good; the token is listed by its prefix.
    again = client.get(PAGE).content.decode()
    assert value not in again
    assert token.prefix in again and "deploy pipeline" in again
    assert client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {value}").status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "lifetime": "90"}, "This field is required."),
        ({"name": "a\tb", "lifetime": "90"}, "control characters"),
        ({"name": "x" * 65, "lifetime": "90"}, "at most 64 characters"),
        ({"name": "ok", "lifetime": "1000"}, "Select a valid choice."),
    ],
)
def test_invalid_input_is_an_inline_error_and_issues_nothing(client, alice, data, message):
    client.force_login(alice)
    response = client.post(PAGE, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert not ApiToken.objects.exists()


def test_a_duplicate_name_is_refused_on_the_name_field(client, alice):
    tokens.issue(user=alice, name="ci")
    client.force_login(alice)
    response = client.post(PAGE, {"name": "ci", "lifetime": "90"})
    assert response.status_code == 400
    assert "already have an active token named “ci”" in response.content.decode()
    assert 'id="id_name_errors"><p class="error">' in response.content.decode()


def test_the_lifetime_choices_follow_the_settings(client, alice, settings):
    settings.APPKEEPER_API_TOKEN_DAYS = 60
    settings.APPKEEPER_API_TOKEN_MAX_DAYS = 90
    client.force_login(alice)
    html = client.get(PAGE).content.decode()
    offered = re.findall(r'<option value="(\d+)"', html)
    assert offered == ["7", "30", "60", "90"]
    assert re.search(r'<option value="60" selected>60 days \(default\)', html)


def test_revoking_from_the_page(client, alice):
    token, value = tokens.issue(user=alice, name="old laptop")
    client.force_login(alice)
    html = client.get(PAGE).content.decode()
    assert 'data-confirm="Revoke “old laptop”?' in html

    response = client.post(reverse("api-token-revoke", args=[token.pk]), follow=True)
    assert "“old laptop” is revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.state == ApiToken.State.REVOKED
    assert "Revoked" in response.content.decode()
    assert client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {value}").status_code == 401
    assert AuditEvent.objects.filter(action="api_token_revoked", actor=alice).count() == 1
    # Again: nothing changes.
    client.post(reverse("api-token-revoke", args=[token.pk]))
    assert AuditEvent.objects.filter(action="api_token_revoked").count() == 1


def test_another_users_token_cannot_be_revoked_from_the_page(client, alice, bob):
    theirs, _ = tokens.issue(user=bob, name="bob's")
    client.force_login(alice)
    assert client.post(reverse("api-token-revoke", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("api-token-revoke", args=[theirs.pk])).status_code == 405
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "bob&#x27;s" not in client.get(PAGE).content.decode()


def test_tokens_expiring_within_a_week_are_called_out(client, alice):
    tokens.issue(user=alice, name="nearly done", days=3)
    tokens.issue(user=alice, name="fine", days=90)
    client.force_login(alice)
    html = client.get(PAGE).content.decode()
    warning = re.search(r'<div class="message message--warning[^"]*".*?</div>', html, re.S).group(0)
    assert "nearly done" in warning and "fine" not in warning
    assert "Expires soon" in html


def test_the_page_costs_the_same_queries_for_any_number_of_tokens(
    client, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    tokens.issue(user=alice, name="first")
    client.get(PAGE)
    # The session, the user, the tokens, and the user's groups and teams for the sidebar.
    with django_assert_max_num_queries(5):
        client.get(PAGE)
    for i in range(25):
        tokens.issue(user=alice, name=f"script {i}")
    with django_assert_max_num_queries(5):
        assert client.get(PAGE).status_code == 200
