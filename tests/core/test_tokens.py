"""API tokens at the model and authentication level: what is stored, when a token stops
working, and what one authenticated request costs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core import tokens
from core.models import ApiToken

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
URL = "/api/v1/teams/"


def client_with(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {value}")
    return client


def test_only_the_hash_of_the_value_is_stored(alice):
    token, value = tokens.issue(user=alice, name="deploy pipeline")

    assert value.startswith("apk_") and len(value) == 47
    assert token.digest == hashlib.sha256(value.encode()).hexdigest()
    assert token.prefix == value[:12]
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert value not in {str(v) for v in stored.values()}
    # Two tokens never share a value.
    assert tokens.issue(user=alice, name="other")[1] != value


@time_machine.travel(NOW, tick=False)
def test_a_token_expires_after_the_default_lifetime_or_the_chosen_one(alice, settings):
    settings.APPKEEPER_API_TOKEN_DAYS = 90
    settings.APPKEEPER_API_TOKEN_MAX_DAYS = 365
    default, _ = tokens.issue(user=alice, name="default")
    chosen, _ = tokens.issue(user=alice, name="chosen", days=7)

    assert default.expires_at == NOW + timedelta(days=90)
    assert chosen.expires_at == NOW + timedelta(days=7)
    for days in (0, 366, -1):
        with pytest.raises(ValidationError) as refused:
            tokens.issue(user=alice, name=f"bad {days}", days=days)
        assert "between 1 and 365 days" in refused.value.message_dict["expires_in_days"][0]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the token a name"),
        ("   ", "Give the token a name"),
        ("x" * 65, "at most 64 characters"),
        ("line\nbreak", "control characters"),
        ("tab\tname", "control characters"),
        ("zero\u200bwidth", "control characters"),
    ],
)
def test_a_name_is_required_short_and_on_one_line(alice, name, message):
    with pytest.raises(ValidationError) as refused:
        tokens.issue(user=alice, name=name)
    assert message in refused.value.message_dict["name"][0]
    assert not ApiToken.objects.exists()


def test_a_name_is_unique_among_the_users_active_tokens(alice, bob):
    first, _ = tokens.issue(user=alice, name="ci")
    with pytest.raises(ValidationError) as refused:
        tokens.issue(user=alice, name="ci")
    assert "already have an active token named “ci”" in refused.value.message_dict["name"][0]

    tokens.issue(user=bob, name="ci")  # another user's names are theirs
    tokens.revoke(first)
    tokens.issue(user=alice, name="ci")  # a revoked token frees its name
    assert ApiToken.objects.filter(user=alice, name="ci").count() == 2


def test_an_expired_namesake_is_retired_and_still_reads_expired(alice):
    with time_machine.travel(NOW, tick=False):
        old, _ = tokens.issue(user=alice, name="ci", days=1)
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        new, _ = tokens.issue(user=alice, name="ci")
        old.refresh_from_db()
        assert old.revoked_at == NOW + timedelta(days=2)
        assert old.state == ApiToken.State.EXPIRED
        assert new.state == ApiToken.State.ACTIVE


def test_a_valid_token_authenticates_its_user(alice, regions):
    _, value = tokens.issue(user=alice, name="script")
    response = client_with(value).get(URL)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token apk_not-a-token", "Invalid token."),
        ("Token ", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
        ("Token " + "x" * 300, "Invalid token."),
    ],
)
def test_a_bad_token_is_401_with_the_scheme_to_use(alice, header, detail):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["detail"] == detail
    assert response["WWW-Authenticate"] == "Token"


def test_an_expired_token_is_401_token_expired(alice):
    with time_machine.travel(NOW, tick=False):
        _, value = tokens.issue(user=alice, name="short", days=1)
    with time_machine.travel(NOW + timedelta(days=1, seconds=-1), tick=False):
        assert client_with(value).get(URL).status_code == 200
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        response = client_with(value).get(URL)
    assert response.status_code == 401
    assert response.json()["detail"] == "Token expired."


def test_a_revoked_token_is_401_invalid_token(alice):
    token, value = tokens.issue(user=alice, name="leaked")
    assert tokens.revoke(token) is True
    assert tokens.revoke(token) is False  # idempotent

    response = client_with(value).get(URL)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."
    assert ApiToken.objects.filter(pk=token.pk).exists()  # retired, not deleted


def test_the_token_of_a_deactivated_user_is_401(alice):
    _, value = tokens.issue(user=alice, name="script")
    alice.is_active = False
    alice.save()
    response = client_with(value).get(URL)
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_without_a_token_header_the_session_still_works(client, alice):
    client.force_login(alice)
    assert client.get(URL).status_code == 200


def test_last_used_at_is_written_at_most_once_per_interval(alice):
    token, value = tokens.issue(user=alice, name="busy")
    client = client_with(value)

    def updates_during(moment) -> int:
        with time_machine.travel(moment, tick=False), CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return sum(
            1
            for q in queries.captured_queries
            if q["sql"].startswith("UPDATE") and "core_apitoken" in q["sql"]
        )

    assert updates_during(NOW) == 1
    token.refresh_from_db()
    assert token.last_used_at == NOW
    assert updates_during(NOW + timedelta(minutes=1)) == 0
    assert updates_during(NOW + timedelta(minutes=4, seconds=59)) == 0
    token.refresh_from_db()
    assert token.last_used_at == NOW
    assert updates_during(NOW + timedelta(minutes=5)) == 1
    token.refresh_from_db()
    assert token.last_used_at == NOW + timedelta(minutes=5)


def test_authenticating_costs_one_query_between_touches(alice):
    token, value = tokens.issue(user=alice, name="reader")
    with time_machine.travel(NOW, tick=False):
        tokens.authenticate_value(value)
        with CaptureQueriesContext(connection) as queries:
            user, found = tokens.authenticate_value(value)
    assert (user, found) == (alice, token)
    assert len(queries.captured_queries) == 1


def test_the_page_the_api_and_the_notice_agree_on_expiring_soon(alice):
    week, _ = tokens.issue(user=alice, name="a week", days=7, now=NOW)
    longer, _ = tokens.issue(user=alice, name="longer", days=8, now=NOW)
    for moment, soon in [(NOW, {"a week"}), (NOW + timedelta(days=1), {"a week", "longer"})]:
        flagged = {t.name for t in (week, longer) if tokens.expires_soon(t, moment)}
        listed = set(ApiToken.objects.expiring_within(7, moment).values_list("name", flat=True))
        assert flagged == listed == soon
    assert not tokens.expires_soon(week, NOW + timedelta(days=7))  # expired, not "soon"
