"""A small OpenID Connect provider in a thread, for driving the real code flow through the
Django test client: discovery, a JWKS with a locally generated RSA key, a token endpoint
that answers whatever ID token the test prepares, and a userinfo endpoint.

The test goes to ``/oidc/authenticate/``, reads the state and nonce from the redirect to
the provider (as a browser would carry them), and comes back to ``/oidc/callback/`` with a
code; the token endpoint records what Appkeeper sent it (the PKCE verifier, the client's
credentials).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from identity import discovery

CLIENT_ID = "appkeeper-test"
CLIENT_SECRET = "s3cret-for-tests"


def new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, kid: str, algorithm: str) -> dict:
    family = (
        jwt.algorithms.ECAlgorithm if algorithm.startswith("ES") else jwt.algorithms.RSAAlgorithm
    )
    jwk = json.loads(family.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


@dataclass
class FakeProvider:
    """The provider's state: what it will answer next and what it was sent."""

    issuer: str = ""
    key: object = field(default_factory=new_rsa_key)
    kid: str = "key-1"
    algorithm: str = "RS256"
    claims: dict = field(default_factory=dict)
    userinfo: dict | None = None
    token_requests: list[dict] = field(default_factory=list)
    jwks_requests: int = 0
    # Overrides for the next ID token (a wrong audience, an expired one, another key...).
    sign_with: object = None
    override: dict = field(default_factory=dict)
    nonce: str = ""

    def id_token(self) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce,
            **self.claims,
            **self.override,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        key = self.sign_with or self.key
        algorithm = self.override.get("alg_header", self.algorithm)
        payload.pop("alg_header", None)
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": self.kid})

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "end_session_endpoint": f"{self.issuer}/logout",
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }


def serve(state: FakeProvider) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _json(self, body: dict, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = urlparse(self.path).path
            if path == "/.well-known/openid-configuration":
                self._json(state.discovery())
            elif path == "/jwks":
                state.jwks_requests += 1
                self._json({"keys": [public_jwk(state.key, state.kid, state.algorithm)]})
            elif path == "/userinfo":
                self._json(state.userinfo or {"sub": state.claims.get("sub")})
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            state.token_requests.append(
                {"form": form, "authorization": self.headers.get("Authorization", "")}
            )
            self._json(
                {"access_token": "at-1", "token_type": "Bearer", "id_token": state.id_token()}
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.issuer = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_sign_in(client, next_url: str = "") -> dict:
    """Go to the provider as the sign-in button does; the authorization request's query."""
    url = "/oidc/authenticate/" + (f"?next={next_url}" if next_url else "")
    response = client.get(url)
    assert response.status_code == 302, response
    return {k: v[0] for k, v in parse_qs(urlparse(response["Location"]).query).items()}


def come_back(client, provider: FakeProvider, request: dict, code: str = "code-1"):
    """The provider signs the person in and sends the browser back with a code."""
    provider.nonce = request["nonce"]
    return client.get("/oidc/callback/", {"code": code, "state": request["state"]})


def sign_in(client, provider: FakeProvider, next_url: str = ""):
    return come_back(client, provider, start_sign_in(client, next_url))


@pytest.fixture(name="oidc")
def oidc_fixture(settings, db):
    """Single sign-on switched on against a fresh fake provider (import this fixture)."""
    state = FakeProvider()
    server = serve(state)
    settings.OIDC_ISSUER = state.issuer
    settings.OIDC_DISCOVERY_URL = ""
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "Acme SSO"
    settings.APPKEEPER_OIDC_GROUP_MAP = {}
    settings.APPKEEPER_OIDC_ACCESS_GROUPS = []
    discovery.reset()
    yield state
    server.shutdown()
    server.server_close()
    discovery.reset()
