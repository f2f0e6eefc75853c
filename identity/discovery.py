"""The OpenID Connect provider's metadata, read from its discovery document.

An operator sets only the issuer: the endpoints and the signing keys' address come from
``<issuer>/.well-known/openid-configuration``. It is fetched at the first sign-in rather
than at start, so ``manage.py`` commands and a provider outage at deploy time do not stop
Appkeeper, and kept for the life of the process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from django.conf import settings

WELL_KNOWN = "/.well-known/openid-configuration"


class ProviderUnavailable(Exception):
    """The discovery document could not be read or does not describe the configured issuer."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    end_session_endpoint: str = ""
    # RFC 8414: absent means the provider supports client_secret_basic only.
    token_endpoint_auth_methods: tuple[str, ...] = ("client_secret_basic",)


_cache: dict[tuple[str, str], ProviderMetadata] = {}
_lock = threading.Lock()
# The provider's signing keys: kept an hour, and read again at once when a token names a
# key that is not among them (the provider rotated its keys), so a sign-in costs no request
# to the provider beyond the code exchange.
KEYS_MAX_AGE_SECONDS = 3600
_keys: dict[str, tuple[float, list[dict]]] = {}


def discovery_url() -> str:
    return settings.OIDC_DISCOVERY_URL or settings.OIDC_ISSUER.rstrip("/") + WELL_KNOWN


def provider() -> ProviderMetadata:
    """The configured provider's metadata, fetched once per process (per configuration)."""
    key = (settings.OIDC_ISSUER, settings.OIDC_DISCOVERY_URL)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _lock:
        if key not in _cache:
            _cache[key] = _fetch()
        return _cache[key]


def reset() -> None:
    """Forget the cached metadata and keys (tests, or a provider that moved its endpoints)."""
    with _lock:
        _cache.clear()
        _keys.clear()


def signing_keys(jwks_uri: str, *, fresh: bool = False) -> list[dict]:
    """The JSON Web Keys published at ``jwks_uri``, from the cache unless ``fresh`` or older
    than ``KEYS_MAX_AGE_SECONDS``."""
    cached = _keys.get(jwks_uri)
    if cached is not None and not fresh and time.monotonic() - cached[0] < KEYS_MAX_AGE_SECONDS:
        return cached[1]
    response = requests.get(jwks_uri, timeout=settings.OIDC_TIMEOUT)
    response.raise_for_status()
    keys = response.json().get("keys", [])
    keys = [key for key in keys if isinstance(key, dict)] if isinstance(keys, list) else []
    with _lock:
        _keys[jwks_uri] = (time.monotonic(), keys)
    return keys


def _fetch() -> ProviderMetadata:
    url = discovery_url()
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"cannot read {url}: {error}") from error
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} is not a JSON object")
    issuer = document.get("issuer", "")
    # A document naming another issuer would have us accept that issuer's tokens.
    if settings.OIDC_ISSUER and issuer != settings.OIDC_ISSUER:
        raise ProviderUnavailable(
            f"{url} names the issuer {issuer!r}, not the configured {settings.OIDC_ISSUER!r}"
        )
    missing = [
        name
        for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(document.get(name), str) or not document.get(name)
    ]
    if missing:
        raise ProviderUnavailable(f"{url} lacks {', '.join(missing)}")
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=document.get("userinfo_endpoint") or "",
        end_session_endpoint=document.get("end_session_endpoint") or "",
        token_endpoint_auth_methods=tuple(methods),
    )
