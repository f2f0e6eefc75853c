"""The ``/scim/v2/`` endpoints. Every answer is SCIM JSON: refusals are Error resources,
authentication (a provisioning token) comes before anything else, and a write runs in one
transaction with the row locked, so ``If-Match`` compares against what is then written."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ParseError

from catalog.api.parsers import json_depth
from core.context import current_request_id
from identity.scim import discovery, groups, patch, tokens, users
from identity.scim.errors import (
    ScimError,
    invalid_syntax,
    not_found,
    scim_response,
)
from identity.scim.filters import compile_filter
from identity.scim.resources import (
    Selection,
    check_if_match,
    list_response,
    not_modified,
    paging,
)

logger = logging.getLogger("appkeeper.scim")

# Directory payloads are small; a group of thousands of members stays well inside this.
MAX_BODY_BYTES = 1024 * 1024
JSON_TYPES = frozenset({"application/scim+json", "application/json"})
_ID = re.compile(r"^[0-9]{1,18}$")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


@method_decorator(csrf_exempt, name="dispatch")
class ScimView(View):
    """Authenticates the provisioning token, then dispatches; any ScimError becomes its
    Error resource."""

    methods: tuple[str, ...] = ("get",)

    def dispatch(self, request, *args, **kwargs):
        try:
            self.token = tokens.authenticate(request.headers.get("Authorization", ""))
            method = request.method.lower()
            if method not in self.methods:
                allowed = ", ".join(m.upper() for m in self.methods)
                raise ScimError(
                    405, f"{request.method} is not supported here.", headers={"Allow": allowed}
                )
            return getattr(self, method)(request, *args, **kwargs)
        except ScimError as refusal:
            return refusal.response()
        except Exception:
            # The identity provider logs what we answer: a SCIM error it can show, with the
            # request id to find our traceback by, rather than the site's HTML 500 page.
            logger.exception("SCIM %s %s failed", request.method, request.path)
            detail = f"Internal error; quote request id {current_request_id()} to the operators."
            return ScimError(500, detail).response()

    def body(self, request) -> dict:
        if request.content_type and request.content_type not in JSON_TYPES:
            raise ScimError(415, "Send the body as application/scim+json.", "invalidSyntax")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
            raise ScimError(413, f"The body must be at most {MAX_BODY_BYTES} bytes.")
        try:
            data = json.loads(request.body.decode("utf-8"), parse_constant=_refuse_constant)
            too_deep = json_depth(data) > settings.APPKEEPER_MAX_JSON_DEPTH
        except RecursionError:
            raise invalid_syntax("The JSON is nested too deeply.") from None
        except UnicodeDecodeError:
            raise invalid_syntax("The body must be UTF-8.") from None
        except ValueError as exc:
            raise invalid_syntax(f"The body is not valid JSON: {exc}") from None
        except ParseError as exc:
            raise invalid_syntax(str(exc.detail)) from None
        if too_deep:
            raise invalid_syntax("The JSON is nested too deeply.")
        if not isinstance(data, dict):
            raise invalid_syntax("The body must be a JSON object.")
        return data


def _resource(resource: dict, *, status: int = 200, location: str = "") -> HttpResponse:
    response = scim_response(resource, status=status)
    response["ETag"] = resource["meta"]["version"]
    if location:
        response["Location"] = location
    return response


def _unchanged(version: str) -> HttpResponse:
    response = HttpResponse(status=304)
    response["ETag"] = version
    return response


class _Collection(ScimView):
    """GET lists with filter and paging; POST creates."""

    methods = ("get", "post")
    kind: Any  # identity.scim.users or identity.scim.groups
    related: str  # the prefetch behind the multi-valued attribute
    related_attribute: str

    def get(self, request):
        selection = Selection(request)
        start, count = paging(request)
        queryset = self.kind.queryset()
        if "filter" in request.GET:
            # A filter through a multi-valued attribute may meet a row more than once.
            queryset = queryset.filter(compile_filter(request.GET["filter"], self.kind.FIELDS))
            queryset = queryset.distinct()
        total = queryset.count()
        page = []
        if count:
            rows = queryset[start - 1 : start - 1 + count]
            if selection.wants(self.related_attribute):
                rows = rows.prefetch_related(self.related)
            page = [self.kind.render(request, row, selection) for row in rows]
        return scim_response(list_response(page, total=total, start=start))

    def post(self, request):
        body = self.body(request)
        created = self.kind.create(body, self.token)
        obj = self.kind.queryset().prefetch_related(self.related).get(pk=created.pk)
        resource = self.kind.render(request, obj, Selection(request))
        return _resource(resource, status=201, location=resource["meta"]["location"])


class _Member(ScimView):
    """One resource: GET (with If-None-Match), PUT, PATCH, DELETE (with If-Match)."""

    methods = ("get", "put", "patch", "delete")
    kind: Any
    related: str
    label: str

    def find(self, pk: str, *, lock: bool = False):
        queryset = self.kind.queryset().prefetch_related(self.related)
        if lock:
            queryset = queryset.select_for_update(of=("self",))
        obj = queryset.filter(pk=int(pk)).first() if _ID.match(pk) else None
        if obj is None:
            raise not_found(self.label, pk)
        return obj

    def answer(self, request, pk: str) -> HttpResponse:
        return _resource(self.kind.render(request, self.find(pk), Selection(request)))

    def get(self, request, pk: str):
        obj = self.find(pk)
        version = self.kind.current_version(obj)
        if not_modified(request, version):
            return _unchanged(version)
        return _resource(self.kind.render(request, obj, Selection(request)))

    def put(self, request, pk: str):
        with transaction.atomic():
            obj = self.find(pk, lock=True)
            check_if_match(request, self.kind.current_version(obj))
            body = self.body(request)
            self.kind.update(obj, self.kind.replacement(body), self.token)
        return self.answer(request, pk)

    def patch(self, request, pk: str):
        with transaction.atomic():
            obj = self.find(pk, lock=True)
            check_if_match(request, self.kind.current_version(obj))
            operations = patch.operations(self.body(request))
            state = self.kind.apply_operations(self.kind.state_of(obj), operations)
            self.kind.update(obj, state, self.token)
        return self.answer(request, pk)

    def delete(self, request, pk: str):
        with transaction.atomic():
            obj = self.find(pk, lock=True)
            check_if_match(request, self.kind.current_version(obj))
            self.kind.retire(obj, self.token)
        return HttpResponse(status=204)


class UsersView(_Collection):
    kind = users
    related = "appkeeper_teams"
    related_attribute = "groups"


class UserView(_Member):
    kind = users
    related = "appkeeper_teams"
    label = "user"


class GroupsView(_Collection):
    kind = groups
    related = "members"
    related_attribute = "members"


class GroupView(_Member):
    kind = groups
    related = "members"
    label = "group"


class ServiceProviderConfigView(ScimView):
    def get(self, request):
        return scim_response(discovery.service_provider_config(request))


def _one_or_all(found: list[dict], wanted: str, what: str) -> HttpResponse:
    """A discovery listing, or the one entry whose id is ``wanted`` (ids compare without
    case, as clients spell schema URNs variously)."""
    if not wanted:
        return scim_response(list_response(found, total=len(found), start=1))
    match = next((item for item in found if item["id"].lower() == wanted.lower()), None)
    if match is None:
        raise not_found(what, wanted)
    return scim_response(match)


class ResourceTypesView(ScimView):
    def get(self, request, name: str = ""):
        return _one_or_all(discovery.resource_types(request), name, "resource type")


class SchemasView(ScimView):
    def get(self, request, uri: str = ""):
        return _one_or_all(discovery.schemas(request), uri, "schema")


class _Refusal(ScimView):
    """Any method, answered with an error once the token is good: a stranger learns
    nothing of what exists."""

    methods = ("get", "post", "put", "patch", "delete")

    def refusal(self, request) -> ScimError:
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        try:
            tokens.authenticate(request.headers.get("Authorization", ""))
        except ScimError as refusal:
            return refusal.response()
        return self.refusal(request).response()


class NotImplementedView(_Refusal):
    """/Bulk and /Me: declared unsupported in ServiceProviderConfig."""

    def refusal(self, request) -> ScimError:
        return ScimError(501, f"{request.path} is not supported by Appkeeper.")


class UnknownView(_Refusal):
    def refusal(self, request) -> ScimError:
        return ScimError(404, f"Nothing at {request.path}.")
