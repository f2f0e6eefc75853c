"""What the sign-in refuses, and how it says so: every failure lands on the sign-in page
with a sentence, no account is signed in, and nothing answers 400 or 500."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.exceptions import ImproperlyConfigured

from config.env import parse_group_map
from config.settings import APPKEEPER_CSP
from core import tokens
from identity import discovery
from tests.factories import UserFactory
from tests.identity.oidc_support import (
    come_back,
    new_rsa_key,
    oidc_fixture,  # noqa: F401  (provides the oidc fixture)
    sign_in,
    start_sign_in,
)
from tests.identity.test_oidc_sign_in import ALICE, signed_in_user

User = get_user_model()


def refused(response, client, *, says: str) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert signed_in_user(client) is None
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(says in m for m in shown), shown


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"aud": "some-other-client"}, "InvalidAudienceError"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "ExpiredSignature"),
        ({"iss": "https://evil.example.com"}, "InvalidIssuerError"),
        ({"sub": None}, "MissingRequiredClaimError"),
    ],
    ids=["wrong audience", "expired", "wrong issuer", "no subject"],
)
def test_a_token_that_does_not_verify_is_refused(client, oidc, caplog, override, reason):
    oidc.claims = ALICE
    oidc.override = override

    response = sign_in(client, oidc)

    refused(response, client, says="could not be verified")
    assert reason in caplog.text
    assert not User.objects.filter(email=ALICE["email"]).exists()


def test_a_token_signed_with_another_key_is_refused(client, oidc, caplog):
    oidc.claims = ALICE
    oidc.sign_with = new_rsa_key()  # same kid, but not the key the JWKS publishes

    refused(sign_in(client, oidc), client, says="could not be verified")
    assert "InvalidSignatureError" in caplog.text


def test_a_token_signed_with_the_client_secret_is_refused(client, oidc, caplog):
    # HS256 with a secret the client knows would let anyone holding it mint tokens.
    oidc.claims = ALICE
    oidc.override = {"alg_header": "HS256"}
    oidc.sign_with = "s3cret-for-tests-padded-to-32-bytes-long"

    refused(sign_in(client, oidc), client, says="could not be verified")
    assert "signed with 'HS256'" in caplog.text


def test_a_nonce_from_another_sign_in_is_refused(client, oidc, caplog):
    oidc.claims = ALICE
    request = start_sign_in(client)
    oidc.override = {"nonce": "a-nonce-of-another-sign-in"}

    refused(come_back(client, oidc, request), client, says="could not be verified")
    assert "nonce does not match" in caplog.text


def test_a_replayed_state_is_refused_with_a_clear_message(client, oidc):
    oidc.claims = ALICE
    request = start_sign_in(client)
    come_back(client, oidc, request)
    client.logout()

    response = come_back(client, oidc, request)

    refused(response, client, says="already used or has expired")
    assert len(oidc.token_requests) == 1  # the replay never reached the token endpoint


def test_a_state_this_browser_never_started_is_refused(client, oidc):
    response = client.get("/oidc/callback/", {"code": "c", "state": "forged"})

    refused(response, client, says="already used or has expired")


def test_an_error_from_the_provider_is_shown(client, oidc):
    request = start_sign_in(client)

    response = client.get(
        "/oidc/callback/",
        {
            "error": "access_denied",
            "error_description": "User cancelled",
            "state": request["state"],
        },
    )

    refused(response, client, says="Acme SSO did not sign you in (User cancelled)")
    assert len(list(get_messages(response.wsgi_request))) == 1
    assert request["state"] not in client.session.get("oidc_states", {})


def test_a_provider_that_cannot_be_reached_is_said_so(client, oidc, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # discard port: nothing listens
    discovery.reset()

    response = client.get("/oidc/authenticate/")

    refused(response, client, says="cannot be reached")


def test_a_discovery_document_naming_another_issuer_is_not_trusted(oidc, settings):
    settings.OIDC_ISSUER = oidc.issuer + "/"
    discovery.reset()

    with pytest.raises(discovery.ProviderUnavailable, match="names the issuer"):
        discovery.provider()


def test_without_a_provider_the_oidc_routes_send_people_to_the_password_form(client, db):
    response = client.get("/oidc/authenticate/")

    refused(response, client, says="not configured")
    page = client.get("/login/")
    assert b"Sign in with" not in page.content and b'name="password"' in page.content


def test_the_sign_in_page_offers_the_provider_keeping_next(client, oidc):
    page = client.get("/login/", {"next": "/apps/"})

    assert b'href="/oidc/authenticate/?next=%2Fapps%2F"' in page.content
    assert b"Sign in with Acme SSO" in page.content
    assert b'name="password"' in page.content


def test_with_passwords_off_the_form_is_gone_and_credentials_are_refused(client, oidc, settings):
    settings.APPKEEPER_PASSWORD_LOGIN = False
    UserFactory(username="alice")

    page = client.get("/login/")
    response = client.post("/login/", {"username": "alice", "password": "appkeeper"})

    assert b"Sign in with Acme SSO" in page.content
    assert b'name="password"' not in page.content
    assert response.status_code == 403
    assert signed_in_user(client) is None
    assert b"Password sign-in is turned off" in response.content


def test_api_tokens_keep_working_with_passwords_off(client, oidc, settings):
    settings.APPKEEPER_PASSWORD_LOGIN = False
    _, value = tokens.issue(user=UserFactory(username="robot"), name="pipeline")

    response = client.get("/api/v1/apps/", HTTP_AUTHORIZATION=f"Token {value}")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{not json", "not valid JSON"),
        ('["platform-team"]', "JSON object"),
        ('{"admins": "platform-team"}', "list of strings"),
        ('{"admins": ["root"]}', "maps to 'root'"),
        ('{"admins": ["team:"]}', "maps to 'team:'"),
    ],
)
def test_a_malformed_group_map_stops_the_start(value, says):
    with pytest.raises(ImproperlyConfigured, match=says):
        parse_group_map("APPKEEPER_OIDC_GROUP_MAP", value)


def test_a_group_map_is_read_as_written():
    value = '{"admins": ["platform-team", "team:support-tools"], "money": ["finance"]}'
    assert parse_group_map("X", value) == {
        "admins": ["platform-team", "team:support-tools"],
        "money": ["finance"],
    }


def test_the_sign_out_form_may_redirect_to_the_provider_only_when_one_is_set():
    # The test settings set no issuer: form-action stays 'self' alone.
    assert APPKEEPER_CSP["form-action"] == ["'self'"]
