"""Request plumbing: a request id on every request, a body budget enforced before parsing,
and the log context (user, app slug) plus one access-log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.context import current_request_id, reset_request_id, set_request_id
from core.logs import (
    current_app_slug,
    current_user,
    reset_log_context,
    set_log_app,
    set_log_user,
)

access_log = logging.getLogger("appkeeper.access")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    """Take a well-formed ``X-Request-ID`` from the proxy or mint one, and echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        # For code that has the request but not the log context; Django's HttpRequest
        # declares no such attribute, so the stubs do not know it.
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class ApiJsonErrorsMiddleware:
    """Answer API paths in JSON even when Django itself answers (an unknown URL under
    ``/api/``, say), instead of the HTML error page meant for browsers."""

    _DETAILS = {
        404: "Not found.",
        403: "You do not have permission to perform this action.",
        405: "Method not allowed.",
    }

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code in self._DETAILS
            and request.path.startswith("/api/")
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return JsonResponse(
                {"detail": self._DETAILS[response.status_code]}, status=response.status_code
            )
        return response


class BodySizeLimitMiddleware:
    """Refuse an oversized body with 413 from its declared length, before anything reads it
    (and a NUL byte in the URL with 400, which PostgreSQL could not even compare).

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE only trips once a view touches ``request.body``
    and then answers 400; clients deserve the proper status, and we never buffer the bytes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
        if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.path:
            # PostgreSQL cannot compare text with NUL; answer 400 before a filter tries.
            return JsonResponse({"detail": "The URL must not contain NUL bytes."}, status=400)
        limit = settings.APPKEEPER_MAX_REQUEST_BYTES
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body is {length} bytes; the limit is {limit} bytes."},
                status=413,
            )
        return self.get_response(request)


class RequestContextMiddleware:
    """Put the user and the app slug of the request into the log context, and write one
    access-log line per request (logger ``appkeeper.access``). Sits after authentication.

    Token-authenticated API calls are authenticated inside the view, so the access line
    reads ``request.user`` again once the response exists."""

    QUIET_VIEWS = frozenset({"healthz", "metrics"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        user_token = set_log_user(_username(request))
        app_token = set_log_app("")  # process_view fills it in; the reset below clears it
        try:
            response = self.get_response(request)
            match = getattr(request, "resolver_match", None)
            view = (match.view_name if match else "") or "unmatched"
            extra = {
                "request_id": getattr(request, "request_id", ""),
                "method": request.method,
                "path": request.path,
                "view": view,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                "user": _username(request) or current_user(),
                "app": current_app_slug(),
                "remote_addr": request.META.get("REMOTE_ADDR", ""),
            }
            access_log.log(
                logging.DEBUG if view in self.QUIET_VIEWS else logging.INFO,
                "%s %s %s %sms",
                request.method,
                request.path,
                response.status_code,
                extra["duration_ms"],
                extra=extra,
            )
            return response
        finally:
            reset_log_context(user_token, app_token)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        slug = view_kwargs.get("slug")
        if isinstance(slug, str):
            set_log_app(slug[:80])
        return None


def _username(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user.get_username()
    return ""


class RequestIdLogFilter(logging.Filter):
    """Copy the request id, user, app slug and Celery task name onto every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        from core.jobs import current_task_name

        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        if not getattr(record, "user", None):
            record.user = current_user()
        if not getattr(record, "app", None):
            record.app = current_app_slug()
        if not getattr(record, "task", None):
            record.task = current_task_name()
        return True
