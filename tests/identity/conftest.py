"""A provisioning token and a SCIM client that sends it, for the SCIM tests."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from identity.scim import tokens

SCIM = "application/scim+json"


class ScimClient:
    """The Django test client speaking SCIM: JSON bodies, the bearer token, parsed answers."""

    def __init__(self, value: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {value}"}

    def request(self, method: str, path: str, body=None, headers=None, content_type=SCIM):
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        url = path if path.startswith("/") else f"/scim/v2/{path}"
        return self.client.generic(
            method,
            url,
            data=data or "",
            content_type=content_type,
            headers={**self.headers, **(headers or {})},
        )

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path, body, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def patch(self, path, body, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


def patch_op(*operations) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": list(operations),
    }


@pytest.fixture
def scim_token(db):
    return tokens.issue(name="Okta", actor=None)


@pytest.fixture
def scim(scim_token) -> ScimClient:
    return ScimClient(scim_token[1])
