"""Sign-in attempts are limited per (client IP, username)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.APPKEEPER_LOGIN_MAX_ATTEMPTS = 3
    settings.APPKEEPER_LOGIN_WINDOW_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def _login(client, username, password, path="/login/", ip="198.51.100.7"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_repeated_failures_are_answered_429_with_a_clear_message(client, alice):
    for _ in range(3):
        assert _login(client, "alice", "wrong").status_code == 200
    refused = _login(client, "alice", PASSWORD)  # even the right password waits
    assert refused.status_code == 429
    assert b"Too many failed sign-in attempts" in refused.content
    assert refused["Retry-After"] == "600"


def test_the_limit_is_per_username_and_per_address(client, alice, bob):
    for _ in range(3):
        _login(client, "alice", "wrong")
    assert _login(client, "bob", PASSWORD).status_code == 302
    assert _login(client, "alice", PASSWORD, ip="198.51.100.8").status_code == 302


def test_a_successful_sign_in_clears_the_count(client, alice):
    for _ in range(2):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_the_admin_login_is_limited_too(client, pat):
    for _ in range(3):
        assert _login(client, "pat", "wrong", path="/admin/login/").status_code == 200
    assert _login(client, "pat", PASSWORD, path="/admin/login/").status_code == 429


def test_usernames_are_compared_case_insensitively(client, alice):
    for name in ("alice", "ALICE", "Alice"):
        _login(client, name, "wrong")
    assert _login(client, "alice", PASSWORD).status_code == 429


def test_the_window_expires(client, alice, settings):
    for _ in range(3):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", PASSWORD).status_code == 429
    cache.clear()  # what the cache does at the end of the window
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_unicode_spellings_of_a_username_share_its_count(client, bob):
    # Django's sign-in form NFKC-normalises the username, so each of these signs in as bob:
    # counting them apart would give every spelling a fresh set of guesses.
    for name in ("ｂob", "𝐛ob", "BOB"):
        assert _login(client, name, "wrong").status_code == 200
    assert _login(client, "ｂob", PASSWORD).status_code == 429
    assert _login(client, "bob", PASSWORD).status_code == 429


def test_failures_across_usernames_are_limited_per_address(client, alice, settings):
    settings.APPKEEPER_LOGIN_MAX_ATTEMPTS_PER_IP = 4
    for name in ("carol", "dave", "erin", "frank"):  # one guess each: password spraying
        assert _login(client, name, "wrong").status_code == 200
    refused = _login(client, "alice", PASSWORD)
    assert refused.status_code == 429
    assert b"from your address" in refused.content
    # Another address is not affected.
    assert _login(client, "alice", PASSWORD, ip="198.51.100.8").status_code == 302


def test_a_successful_sign_in_does_not_clear_the_per_address_count(client, alice, settings):
    settings.APPKEEPER_LOGIN_MAX_ATTEMPTS_PER_IP = 3
    _login(client, "carol", "wrong")
    _login(client, "dave", "wrong")
    assert _login(client, "alice", PASSWORD).status_code == 302
    client.logout()
    _login(client, "erin", "wrong")
    assert _login(client, "alice", PASSWORD).status_code == 429


# --- the client address behind trusted proxies ------------------------------------------


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(client, alice, settings):
    settings.APPKEEPER_TRUSTED_PROXIES = 0
    for n in range(3):  # a fresh "address" per guess must not buy fresh guesses
        _login_via(client, "alice", "wrong", forwarded=f"203.0.113.{n}")
    assert _login_via(client, "alice", PASSWORD, forwarded="203.0.113.99").status_code == 429


def test_behind_one_trusted_proxy_the_right_most_forwarded_entry_is_the_client(
    client, alice, settings
):
    settings.APPKEEPER_TRUSTED_PROXIES = 1
    # Every user arrives from the proxy's address; the proxy appends the real client's.
    for _ in range(3):
        _login_via(client, "alice", "wrong", forwarded="10.9.9.9, 203.0.113.5")
    # The left entry is the client's own claim and changes nothing.
    assert (
        _login_via(client, "alice", PASSWORD, forwarded="10.1.1.1, 203.0.113.5").status_code == 429
    )
    # Another client behind the same proxy is not locked out.
    assert _login_via(client, "alice", PASSWORD, forwarded="203.0.113.6").status_code == 302


def _login_via(client, username, password, *, forwarded):
    return client.post(
        "/login/",
        {"username": username, "password": password},
        REMOTE_ADDR="192.0.2.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )


# --- parallel guesses -----------------------------------------------------------------------


def test_guesses_in_flight_together_cannot_all_pass_the_limit(client, alice, monkeypatch):
    """Found by the attack checks (.ci/attack.sh): six parallel guesses against a limit of
    five were all checked, because each read the count before any of them was recorded.
    Here the others arrive while the first one's password is being checked."""
    from django.contrib.auth.backends import ModelBackend
    from django.test import Client

    check_password = ModelBackend.authenticate
    inside: list[int] = []

    def authenticate(self, request, *args, **kwargs):
        if not inside:
            inside.append(0)  # only the first guess lets the others in
            others = Client()
            inside.extend(_login(others, "alice", "wrong").status_code for _ in range(3))
        return check_password(self, request, *args, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", authenticate)

    assert _login(client, "alice", "wrong").status_code == 200
    # The limit is 3: the first guess and two of the three that overlapped it are checked.
    assert inside[1:] == [200, 200, 429]
    assert _login(client, "alice", PASSWORD).status_code == 429


def test_an_attempt_that_checked_no_password_is_not_counted(client, alice, settings):
    settings.APPKEEPER_LOGIN_MAX_ATTEMPTS_PER_IP = 2
    csrf_checked = type(client)(enforce_csrf_checks=True)
    for _ in range(4):  # refused by the CSRF check before any password is looked at
        assert _login(csrf_checked, "alice", "wrong").status_code == 403
    assert _login(client, "alice", PASSWORD).status_code == 302
