"""The OpenID Connect provider's metadata, read from its discovery document.

An operator sets only the issuer: the endpoints and the signing keys' address come from
``<issuer>/.well-known/openid-configuration``. It is fetched at the first sign-in rather
than at start, so ``manage.py`` commands and a provider outage at deploy time do not stop
Appkeeper, and kept for the life of the process.
"""

from __future__ import annotations

import threading
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
    """Forget the cached metadata (tests, or a provider that moved its endpoints)."""
    with _lock:
        _cache.clear()


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
