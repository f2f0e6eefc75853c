"""``/api/v1/tokens/``, ``manage.py issue_token``, the admin and the audit trail of tokens."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import AuditEvent
from core import tokens
from core.models import ApiToken

pytestmark = pytest.mark.django_db

URL = "/api/v1/tokens/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache, keyed by user id, which tests reuse.
    cache.clear()
    yield
    cache.clear()


def token_client(user, name="api client") -> APIClient:
    """A client authenticated the way scripts are: with a token."""
    _, value = tokens.issue(user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {value}")
    return client


def test_creating_answers_the_value_once_and_stores_only_its_hash(api_as, alice):
    response = api_as(alice).post(URL, {"name": "deploy pipeline", "expires_in_days": 30})

    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("apk_")
    assert body["name"] == "deploy pipeline"
    assert body["state"] == "active"
    assert body["user"] == "alice"
    assert body["prefix"] == body["token"][:12]
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(pk=body["id"])
    assert token.expires_at - token.created == timedelta(days=30)
    # The value works, and is never shown again.
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    listed = script.get(URL).json()["results"]
    assert [row["name"] for row in listed] == ["deploy pipeline"]
    assert "token" not in listed[0]
    assert body["token"] not in str(listed)


def test_creating_without_a_lifetime_takes_the_default(api_as, alice, settings):
    settings.APPKEEPER_API_TOKEN_DAYS = 45
    body = api_as(alice).post(URL, {"name": "laptop"}).json()
    token = ApiToken.objects.get(pk=body["id"])
    assert token.expires_at - token.created == timedelta(days=45)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 12}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "two\nlines"}, "name"),
        ({"name": "ok", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": 366}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": "soon"}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": "30"}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": True}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": 30.5}, "expires_in_days"),
    ],
)
def test_invalid_input_is_a_field_level_400_and_issues_nothing(api_as, alice, payload, field):
    response = api_as(alice).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ApiToken.objects.exists()


def test_a_second_active_token_of_the_same_name_is_refused_on_name(api_as, alice):
    client = api_as(alice)
    assert client.post(URL, {"name": "ci"}).status_code == 201
    response = client.post(URL, {"name": "ci"})
    assert response.status_code == 400
    assert "already have an active token" in response.json()["name"][0]


def test_the_list_shows_only_the_callers_tokens_with_their_state(api_as, alice, bob):
    now = timezone.now()
    active, _ = tokens.issue(user=alice, name="active")
    revoked, _ = tokens.issue(user=alice, name="revoked")
    tokens.revoke(revoked)
    expired, _ = tokens.issue(user=alice, name="expired", now=now - timedelta(days=10), days=1)
    soon, _ = tokens.issue(user=alice, name="soon", days=3)
    tokens.issue(user=bob, name="bob's")

    rows = api_as(alice).get(URL).json()["results"]

    assert {row["name"]: row["state"] for row in rows} == {
        "active": "active",
        "revoked": "revoked",
        "expired": "expired",
        "soon": "active",
    }
    assert {row["name"] for row in rows if row["expires_soon"]} == {"soon"}
    assert set(rows[0]) == {
        "id",
        "name",
        "prefix",
        "user",
        "created",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "state",
        "expires_soon",
    }
    only_active = api_as(alice).get(URL, {"state": "active"}).json()["results"]
    assert {row["name"] for row in only_active} == {"active", "soon"}
    only_expired = api_as(alice).get(URL, {"state": "expired"}).json()["results"]
    assert [row["name"] for row in only_expired] == ["expired"]
    only_revoked = api_as(alice).get(URL, {"state": "revoked"}).json()["results"]
    assert [row["name"] for row in only_revoked] == ["revoked"]


def test_revoking_is_idempotent_and_the_token_stops_working(api_as, alice):
    body = api_as(alice).post(URL, {"name": "leaked"}).json()
    client = api_as(alice)

    first = client.post(f"{URL}{body['id']}/revoke/")
    assert first.status_code == 200
    assert first.json()["state"] == "revoked"
    revoked_at = first.json()["revoked_at"]
    again = client.post(f"{URL}{body['id']}/revoke/")
    assert again.status_code == 200
    assert again.json()["revoked_at"] == revoked_at

    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert script.get(URL).status_code == 401
    assert ApiToken.objects.filter(pk=body["id"]).exists()


def test_another_users_token_is_404_and_stays_active(api_as, alice, bob):
    theirs, _ = tokens.issue(user=bob, name="bob's")
    response = api_as(alice).post(f"{URL}{theirs.pk}/revoke/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert api_as(alice).get(URL, {"user": "bob"}).json()["results"] == []
    assert api_as(alice).post(f"{URL}999999/revoke/").status_code == 404


def test_the_platform_team_lists_and_revokes_anyones_tokens(api_as, alice, pat):
    theirs, _ = tokens.issue(user=alice, name="alice's")
    client = api_as(pat)

    assert client.get(URL).json()["results"] == []  # their own, by default
    listed = client.get(URL, {"user": "alice"}).json()["results"]
    assert [row["name"] for row in listed] == ["alice's"]
    assert client.post(f"{URL}{theirs.pk}/revoke/").status_code == 200
    event = AuditEvent.objects.get(action="api_token_revoked")
    assert event.actor == pat
    assert event.data["user"] == "alice"


def test_issuing_and_revoking_are_audited_without_the_value(api_as, alice):
    client = api_as(alice)
    body = client.post(URL, {"name": "audited"}).json()
    client.post(f"{URL}{body['id']}/revoke/")
    client.post(f"{URL}{body['id']}/revoke/")  # nothing changes, nothing recorded

    events = list(AuditEvent.objects.order_by("pk"))
    assert [e.action for e in events] == ["api_token_issued", "api_token_revoked"]
    assert all(e.app is None and e.actor == alice for e in events)
    assert events[0].data["name"] == "audited"
    assert events[0].data["prefix"] == body["prefix"]
    assert body["token"] not in str([e.data for e in events])


def test_issuing_is_throttled_per_user(api_as, alice, bob, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "api_tokens": "3/hour",
        },
    }
    from rest_framework.settings import api_settings

    from catalog.api.tokens import TokenIssueThrottle

    # DRF reads throttle rates once, when the throttle class is defined.
    TokenIssueThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        client = api_as(alice)
        codes = [client.post(URL, {"name": f"t{i}"}).status_code for i in range(4)]
        assert codes == [201, 201, 201, 429]
        assert client.get(URL).status_code == 200  # reading is not throttled
        assert api_as(bob).post(URL, {"name": "bob's"}).status_code == 201
    finally:
        TokenIssueThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert ApiToken.objects.filter(user=alice).count() == 3


def test_a_token_list_costs_the_same_queries_for_any_number_of_tokens(
    alice, django_assert_max_num_queries
):
    client = token_client(alice)
    client.get(URL)  # last_used_at is written on the first call only
    # Auth (1), the groups for the permission filter (1), count and page (2).
    with django_assert_max_num_queries(4):
        assert len(client.get(URL).json()["results"]) == 1
    for i in range(30):
        tokens.issue(user=alice, name=f"script {i}")
    with django_assert_max_num_queries(4):
        assert len(client.get(URL).json()["results"]) == 31


def test_the_endpoints_are_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/tokens/"])
    assert "post" in schema["paths"]["/api/v1/tokens/{id}/revoke/"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


# --- manage.py issue_token ----------------------------------------------------------------


def test_issue_token_prints_a_working_value_once(alice):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_token", "alice", "--name", "ci", "--days", "10", stdout=out, stderr=err)

    [value] = out.getvalue().splitlines()  # alone on stdout, for $(...) in scripts
    token = ApiToken.objects.get(user=alice)
    assert token.digest == tokens.digest(value)
    assert token.name == "ci"
    assert token.expires_at - token.created == timedelta(days=10)
    assert "shown once" in err.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {value}")
    assert client.get(URL).status_code == 200
    event = AuditEvent.objects.get(action="api_token_issued")
    assert event.actor is None and event.data["user"] == "alice"


def test_issue_token_names_a_token_by_default_and_refuses_bad_input(alice, bob):
    call_command("issue_token", "alice", stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiToken.objects.get(user=alice).name.startswith("cli ")
    with pytest.raises(CommandError, match="No active user"):
        call_command("issue_token", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError, match="between 1 and 365 days"):
        call_command("issue_token", "bob", "--days", "400", stdout=io.StringIO())
    assert not ApiToken.objects.filter(user=bob).exists()


# --- the admin --------------------------------------------------------------------------


def test_the_admin_lists_and_revokes_tokens_but_never_deletes_or_shows_a_hash(
    client, admin_user, alice
):
    token, _ = tokens.issue(user=alice, name="alice's script")
    client.force_login(admin_user)
    changelist = reverse("admin:core_apitoken_changelist")

    page = client.get(changelist)
    assert page.status_code == 200
    assert "alice&#x27;s script" in page.content.decode()
    assert token.digest not in page.content.decode()
    detail = client.get(reverse("admin:core_apitoken_change", args=[token.pk]))
    assert detail.status_code == 200
    assert token.digest not in detail.content.decode()
    assert client.get(reverse("admin:core_apitoken_add")).status_code == 403
    assert client.get(reverse("admin:core_apitoken_delete", args=[token.pk])).status_code == 403

    response = client.post(
        changelist, {"action": "revoke_selected", "_selected_action": [token.pk]}, follow=True
    )
    assert "Revoked 1 token(s)." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.get(action="api_token_revoked").actor == admin_user


def test_the_platform_team_revokes_tokens_in_the_admin_too(client, pat, alice):
    token, _ = tokens.issue(user=alice, name="leaked")
    client.force_login(pat)
    changelist = reverse("admin:core_apitoken_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:core_apitoken_add")).status_code == 403
    client.post(changelist, {"action": "revoke_selected", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Permission.objects.get(codename="change_apitoken").name == "Can change API token"


def test_other_staff_do_not_see_tokens_in_the_admin(client, fin):
    fin.is_staff = True
    fin.save()
    client.force_login(fin)
    assert client.get(reverse("admin:core_apitoken_changelist")).status_code == 403
