"""Signing in through an OpenID Connect provider: mozilla-django-oidc's code flow (state,
nonce and PKCE), with the checks it leaves out and Appkeeper's account rules.

The library verifies the ID token's signature but not its audience or issuer; here the
token must be signed by a key from the provider's JWKS with RS256/ES256 (or their larger
siblings), be issued by the configured issuer for our client id, and be unexpired. Then:

- the account is found by (issuer, subject) first, so a changed e-mail address never
  signs someone into another account; else an account with the same verified e-mail that
  no other subject holds is adopted (a local or SCIM-provisioned one); else one is made;
- a deactivated account is refused; with ``APPKEEPER_OIDC_ACCESS_GROUPS`` set, someone in
  none of them is refused and their account deactivated, which hands their apps over, and
  an account deactivated that way comes back when its person is back in an access group;
- roles and team memberships follow the groups claim (``identity.roles``).

A refusal carries a sentence for the sign-in page (:class:`SignInRefused`); the details go
to the log.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from requests.auth import HTTPBasicAuth

from identity import people
from identity.discovery import ProviderMetadata, ProviderUnavailable, provider, signing_keys
from identity.models import DeactivatedVia, Person, Source
from identity.roles import sync_roles

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
# Clocks differ a little between us and the provider.
LEEWAY_SECONDS = 60
USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


class SignInRefused(Exception):
    """Why someone was not signed in, in words for the sign-in page."""


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME


def unverifiable() -> SignInRefused:
    return SignInRefused(
        f"The answer from {provider_name()} could not be verified, so you are not signed in. "
        "Try again; if it keeps failing, tell the platform team."
    )


def groups_claim(claims: dict) -> list[str]:
    """The configured groups claim as a list of strings (a lone string counts as one)."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    return [str(group) for group in value if isinstance(group, str | int)]


class ProviderBackend(OIDCAuthenticationBackend):
    """The provider's endpoints are read at sign-in (``identity.discovery``), not at start:
    Django builds a backend for every session lookup, and those must not need the provider.
    """

    def __init__(self, *args, **kwargs) -> None:
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if not settings.OIDC_ENABLED or request is None or "code" not in request.GET:
            return None
        try:
            self.metadata = provider()
            self.OIDC_OP_TOKEN_ENDPOINT = self.metadata.token_endpoint
            self.OIDC_OP_USER_ENDPOINT = self.metadata.userinfo_endpoint
            self.OIDC_OP_JWKS_ENDPOINT = self.metadata.jwks_uri
            self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
            self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
            return super().authenticate(request, **kwargs)
        except SignInRefused as refusal:
            request.oidc_refusal = str(refusal)
        except IntegrityError:
            # Two first sign-ins of one person at once (two tabs): the other one won.
            log.info("OIDC sign-in lost a race to create the same account")
            request.oidc_refusal = "You were signing in twice at once. Sign in again."
        except ProviderUnavailable as error:
            log.warning("OIDC sign-in failed: provider unavailable: %s", error)
            request.oidc_refusal = (
                f"{provider_name()} cannot be reached right now, so you are not signed in. "
                "Try again in a minute."
            )
        except (SuspiciousOperation, jwt.PyJWTError, requests.RequestException, KeyError) as error:
            log.warning("OIDC sign-in failed: %s: %s", type(error).__name__, error)
            request.oidc_refusal = str(unverifiable())
        return None

    # --- the token exchange and its checks ------------------------------------------------

    def get_token(self, payload: dict) -> dict:
        """Send the client secret the way the provider prefers (HTTP Basic unless it only
        takes it in the body); a public client, with PKCE alone, sends none."""
        secret = payload.pop("client_secret", "")
        auth = None
        if secret and "client_secret_basic" in self.metadata.token_endpoint_auth_methods:
            auth = HTTPBasicAuth(payload["client_id"], secret)
        elif secret:
            payload["client_secret"] = secret
        response = requests.post(
            self.OIDC_OP_TOKEN_ENDPOINT, data=payload, auth=auth, timeout=settings.OIDC_TIMEOUT
        )
        self.raise_token_response_error(response)
        return response.json()

    def verify_token(self, token, **kwargs) -> dict:
        if not token:
            raise SuspiciousOperation("the token endpoint answered no id_token")
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise SuspiciousOperation(f"ID token signed with {algorithm!r}")
        payload = jwt.decode(
            token,
            self._signing_key(header, algorithm),
            algorithms=[algorithm],
            audience=settings.OIDC_RP_CLIENT_ID,
            issuer=self.metadata.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if len(audiences) > 1 and payload.get("azp") != settings.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token for several audiences, authorised for another")
        if payload.get("nonce") != kwargs.get("nonce"):
            raise SuspiciousOperation("ID token nonce does not match this sign-in")
        return payload

    def _signing_key(self, header: dict, algorithm: str) -> jwt.PyJWK:
        # The cached keys first; a key they lack may be new, so the provider is asked once.
        for fresh in (False, True):
            keys = signing_keys(self.OIDC_OP_JWKS_ENDPOINT, fresh=fresh)
            key = _matching_key(keys, header, algorithm)
            if key is not None:
                return key
        raise SuspiciousOperation(f"no {algorithm} key {header.get('kid')!r} in the JWKS")

    def get_userinfo(self, access_token, id_token, payload) -> dict:
        """The ID token's claims, completed by the userinfo endpoint when there is one (Okta
        and Keycloak may put the groups there); what the signed ID token says wins."""
        if not self.OIDC_OP_USER_ENDPOINT or not access_token:
            return dict(payload)
        response = requests.get(
            self.OIDC_OP_USER_ENDPOINT,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=settings.OIDC_TIMEOUT,
        )
        response.raise_for_status()
        userinfo = response.json() if response.content else {}
        if not isinstance(userinfo, dict) or userinfo.get("sub", payload["sub"]) != payload["sub"]:
            raise SuspiciousOperation("userinfo describes another subject than the ID token")
        return {**userinfo, **payload}

    # --- whose account ------------------------------------------------------------------------

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        issuer, subject = self.metadata.issuer, str(claims["sub"])
        groups = groups_claim(claims)
        user = self._known_user(issuer, subject) or self._adoptable_user(claims)
        access_groups = settings.APPKEEPER_OIDC_ACCESS_GROUPS
        if access_groups and not set(access_groups) & set(groups):
            if user is not None:
                people.deactivate(user, actor=None, via=DeactivatedVia.OIDC)
            log.info("OIDC sign-in refused: %s is in no access group", subject)
            raise SignInRefused(
                f"Your {provider_name()} account is not in a group allowed to use Appkeeper, "
                "so you are not signed in. Ask your administrator for access."
            )
        if user is not None and access_groups and self._left_an_access_group(user):
            # Back in an access group: undo what leaving it did, and only that (apps
            # handed over stay with their new owners).
            people.reactivate(user)
        if user is not None and not user.is_active:
            raise SignInRefused(
                "Your Appkeeper account is deactivated, so you are not signed in. "
                "Ask the platform team if you should have access."
            )
        with transaction.atomic():
            if user is None:
                user = self._create(claims)
            self._bind(user, claims, issuer, subject)
            sync_roles(user, groups, via=Source.OIDC)
        return user

    @staticmethod
    def _left_an_access_group(user) -> bool:
        """Deactivated by a sign-in outside the access groups, not by the admin or SCIM."""
        if user.is_active:
            return False
        return Person.objects.filter(user=user, deactivated_via=DeactivatedVia.OIDC).exists()

    @staticmethod
    def _known_user(issuer: str, subject: str):
        person = (
            Person.objects.select_related("user")
            .filter(oidc_issuer=issuer, oidc_subject=subject)
            .first()
        )
        return person.user if person else None

    def _adoptable_user(self, claims: dict):
        email = claims.get("email")
        # Some providers write the flag as a string.
        verified = (
            claims.get("email_verified") in (True, "true") or settings.APPKEEPER_OIDC_TRUST_EMAIL
        )
        if not email or not verified:
            return None
        candidates = list(
            self.UserModel.objects.filter(email__iexact=email).select_related("person")[:2]
        )
        if len(candidates) != 1:
            return None  # none, or ambiguous: making a new account beats guessing
        user = candidates[0]
        # An account already tied to another subject belongs to someone else.
        bound = getattr(user, "person", None)
        return None if bound is not None and bound.oidc_subject else user

    def _create(self, claims: dict):
        user = self.UserModel(username=self._free_username(claims))
        user.set_unusable_password()
        user.save()
        return user

    def _free_username(self, claims: dict) -> str:
        wanted = claims.get("preferred_username") or claims.get("email") or str(claims["sub"])
        base = USERNAME_UNSAFE.sub("-", str(wanted))[:140] or "user"
        taken = {
            name.casefold()
            for name in self.UserModel.objects.filter(username__istartswith=base).values_list(
                "username", flat=True
            )
        }
        candidate, suffix = base, 2
        while candidate.casefold() in taken:
            candidate, suffix = f"{base}-{suffix}", suffix + 1
        return candidate

    @staticmethod
    def _bind(user, claims: dict, issuer: str, subject: str) -> None:
        person = people.person_of(user)
        person.oidc_issuer, person.oidc_subject = issuer, subject
        if person.source == Source.LOCAL:
            person.source = Source.OIDC
        person.save(update_fields=["oidc_issuer", "oidc_subject", "source", "updated_at"])
        wanted = {
            "email": claims.get("email"),
            "first_name": claims.get("given_name"),
            "last_name": claims.get("family_name"),
        }
        changed = [
            name
            for name, value in wanted.items()
            if isinstance(value, str) and value and getattr(user, name) != value[:150]
        ]
        for name in changed:
            setattr(user, name, wanted[name][:150])
        if changed:
            user.save(update_fields=changed)


def _matching_key(keys: list[dict], header: dict, algorithm: str) -> jwt.PyJWK | None:
    family = {"R": "RSA", "P": "RSA", "E": "EC"}[algorithm[0]]
    for jwk in keys:
        if header.get("kid") and jwk.get("kid") != header["kid"]:
            continue
        if jwk.get("kty") != family or jwk.get("alg", algorithm) != algorithm:
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        return jwt.PyJWK(jwk, algorithm=algorithm)
    return None


def end_session_url(metadata: ProviderMetadata, *, id_token: str, return_to: str) -> str:
    """Where to send a signed-out browser so the provider ends its session too."""
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": return_to,
            "client_id": settings.OIDC_RP_CLIENT_ID,
        }
    )
    separator = "&" if "?" in metadata.end_session_endpoint else "?"
    return f"{metadata.end_session_endpoint}{separator}{query}"
