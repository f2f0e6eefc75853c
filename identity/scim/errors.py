"""SCIM's error resource (RFC 7644 §3.12): every refusal under ``/scim/v2/`` is one of
these, never Django's HTML error page, so the identity provider can log why."""

from __future__ import annotations

import json

from django.http import HttpResponse

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MEDIA_TYPE = "application/scim+json"


class ScimError(Exception):
    """A refusal with its HTTP status and, where RFC 7644 names one, its ``scimType``."""

    def __init__(self, status: int, detail: str, scim_type: str = "", headers=None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.headers = headers or {}

    def response(self) -> HttpResponse:
        body = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        response = scim_response(body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def scim_response(body: dict | None, *, status: int = 200) -> HttpResponse:
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    response = HttpResponse(content, status=status, content_type=MEDIA_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def invalid_value(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidValue")


def invalid_filter(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidFilter")


def invalid_path(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidPath")


def invalid_syntax(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidSyntax")


def no_target(detail: str) -> ScimError:
    return ScimError(400, detail, "noTarget")


def mutability(detail: str) -> ScimError:
    return ScimError(400, detail, "mutability")


def uniqueness(detail: str) -> ScimError:
    return ScimError(409, detail, "uniqueness")


def not_found(kind: str, identifier: str) -> ScimError:
    return ScimError(404, f"No {kind} with id {identifier!r}.")
