"""Login attempt limiting: slow down password guessing on the two sign-in forms.

Failed POSTs to ``/login/`` and ``/admin/login/`` are counted per (client IP, username) in
the Django cache; each attempt is counted before its password is checked (and given back
when it did not fail), so parallel guesses cannot all slip under the limit. After
``APPKEEPER_LOGIN_MAX_ATTEMPTS`` failures within ``APPKEEPER_LOGIN_WINDOW_SECONDS`` (the
window starts at the first failure), further attempts for that pair are answered 429
without checking the password, until the window ends. A successful sign-in clears the
count. The username is counted in the form Django signs in with (NFKC-normalised) and
case-folded, so ``ｂob`` or ``BOB`` share bob's count.

Failures are also counted per client IP across all usernames: after
``APPKEEPER_LOGIN_MAX_ATTEMPTS_PER_IP`` within the window, that address is answered 429 for
every username, which slows down password spraying (one password tried on many accounts).
A successful sign-in does not clear this count, or an attacker could reset it with an
account of their own.

A failure is recognised by what Django's LoginView does: it answers a failed POST by
showing the form again (200) and a successful one with a redirect (302). Counting in the
cache rather than the database keeps failures cheap and lets them expire on their own; use
a shared cache (``CACHE_URL``, Redis) when several processes serve the site.

When the cache cannot be reached the limiter fails open (``core.resilience``): sign-in
works as if no failure had been counted, and the outage is counted and logged, because
refusing every sign-in while Redis is down would lock everybody out.
"""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import escape

from core.resilience import cache_fails_open

LOGIN_PATHS_EXTRA = ("/admin/login/",)


def _login_paths() -> set[str]:
    return {reverse("login"), *LOGIN_PATHS_EXTRA}


def client_ip(request: HttpRequest) -> str:
    """The client's address, counting ``APPKEEPER_TRUSTED_PROXIES`` hops.

    With no trusted proxy (0) only REMOTE_ADDR counts: X-Forwarded-For is then written by
    the client, and trusting it would let an attacker pick a fresh "IP" for every guess.
    Behind N proxies each appends the address it received from, so the entry N from the
    right is the one the outermost trusted proxy saw; entries left of it are the client's
    own claims. This is the rule DRF's throttles apply with ``NUM_PROXIES`` (set from the
    same setting), so the sign-in limit and the API throttles see one address per client.
    """
    proxies = settings.APPKEEPER_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(proxies, len(hops))]
        if address:
            return address
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def normalize_username(username: str) -> str:
    """The account a username signs in as: Django's sign-in form strips it and NFKC-normalises
    it (``AbstractBaseUser.normalize_username``), so every spelling that reaches the same
    account must share one count; case-folded because usernames differing only in case are
    one person to a guesser."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()


def attempts_key(ip: str, username: str) -> str:
    digest = hashlib.sha256(f"{ip}\0{normalize_username(username)}".encode()).hexdigest()[:32]
    return f"appkeeper:login-fail:{digest}"


def ip_attempts_key(ip: str) -> str:
    digest = hashlib.sha256(ip.encode()).hexdigest()[:32]
    return f"appkeeper:login-fail-ip:{digest}"


def record_failure(key: str, window: int) -> int:
    """Count one failure; the first one opens the window. Returns the count so far."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def give_back(key: str) -> None:
    """Undo one counted attempt that turned out not to be a failure."""
    # A ValueError means the window ended meanwhile: nothing is left to give back.
    with contextlib.suppress(ValueError):
        cache.decr(key)


class LoginRateLimitMiddleware:
    """Answer 429 to sign-in POSTs for an (IP, username) pair, or an IP, that failed too
    often."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path not in _login_paths():
            return self.get_response(request)
        limit = settings.APPKEEPER_LOGIN_MAX_ATTEMPTS
        window = settings.APPKEEPER_LOGIN_WINDOW_SECONDS
        username = request.POST.get("username", "")[:150]
        ip = client_ip(request)
        key = attempts_key(ip, username)
        ip_key = ip_attempts_key(ip)
        # Each attempt is counted before its password is checked and given back afterwards
        # unless it failed: a count read first and written after the check would let any
        # number of parallel guesses through, each seeing the others not yet counted.
        if self._count(key, window) > limit:
            return self._refuse(window, "for this account from your address")
        if self._count(ip_key, window) > settings.APPKEEPER_LOGIN_MAX_ATTEMPTS_PER_IP:
            with cache_fails_open("login_clear"):
                give_back(key)
            return self._refuse(window, "from your address")
        try:
            response = self.get_response(request)
        except BaseException:
            with cache_fails_open("login_clear"):
                give_back(key)
                give_back(ip_key)
            raise
        if response.status_code == 200:
            return response  # the form shown again: a failed sign-in, counted twice
        with cache_fails_open("login_clear"):
            give_back(ip_key)  # a success, or no password checked: the address owes nothing
            if 300 <= response.status_code < 400:
                cache.delete(key)
            else:
                give_back(key)
        return response

    @staticmethod
    def _count(key: str, window: int) -> int:
        """Count this attempt; with the cache unreachable, as if it were the first."""
        count = 0
        with cache_fails_open("login_record"):
            count = record_failure(key, window)
        return count

    @staticmethod
    def _refuse(window: int, scope: str) -> HttpResponse:
        minutes = max(1, round(window / 60))
        message = (
            f"Too many failed sign-in attempts {scope}. "
            f"Wait up to {minutes} minute{'s' if minutes != 1 else ''} and try again, "
            "or ask the platform team to help."
        )
        response = HttpResponse(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Too many sign-in attempts · Appkeeper</title></head><body>"
            f"<h1>Too many sign-in attempts</h1><p>{escape(message)}</p></body></html>",
            status=429,
        )
        response["Retry-After"] = str(window)
        return response
