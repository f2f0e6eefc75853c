"""Views of the platform itself: health, the favicon, the error pages, and the benchmark floor."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from django.core.cache import BaseCache, caches
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from core.resilience import fail_fast_transport_options

# /healthz answers within this long whatever its dependencies do: a load balancer's probe
# must not time out on a dead Redis (the clients' own timeouts end the checks soon after).
HEALTH_BUDGET_SECONDS = 0.8


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _broker() -> str:
    from config.celery import app

    with app.connection_for_write(transport_options=fail_fast_transport_options()) as conn:
        conn.ensure_connection(max_retries=0)  # one try, no reconnect loop
    return "ok"


def _cache(backend: BaseCache) -> Callable[[], str]:
    def check() -> str:
        # A key of its own per call, so concurrent probes cannot read each other's value.
        token = uuid.uuid4().hex
        key = f"appkeeper:healthz:{token}"
        backend.set(key, token, timeout=10)
        if backend.get(key) != token:
            return "error: the cache did not return what was written"
        return "ok"

    return check


def _outcome(check: Callable[[], str]) -> str:
    try:
        return check()
    except Exception as exc:  # any driver error means "not ready", reported, not raised
        return f"error: {exc.__class__.__name__}"


def run_checks(budget: float = HEALTH_BUDGET_SECONDS) -> dict[str, str]:
    """Database, broker and cache, at once: the broker and the cache in threads that get
    ``budget`` seconds between them, the database in this thread (the request's own
    connection). A check still running at the deadline is reported as timed out."""
    deadline = time.monotonic() + budget
    answers: dict[str, str] = {}
    # The request thread's cache object, resolved here: in a thread of its own
    # ``django.core.cache.cache`` would open a new client (caches are per thread).
    remote = {"broker": _broker, "cache": _cache(caches["default"])}
    threads = []
    for name, check in remote.items():

        def run(name: str = name, check: Callable[[], str] = check) -> None:
            answers[name] = _outcome(check)

        thread = threading.Thread(target=run, name=f"healthz-{name}", daemon=True)
        thread.start()
        threads.append(thread)
    database = _outcome(_database)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    timed_out = f"error: no answer within {budget:g} s"
    return {"database": database, **{name: answers.get(name, timed_out) for name in remote}}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """``ok`` (200) or ``degraded`` (503) with each dependency's answer, within about
    ``HEALTH_BUDGET_SECONDS`` whatever is down."""
    checks = run_checks()
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
    )


@csrf_exempt
def bench_noop(request: HttpRequest) -> HttpResponse:
    """Benchmark floor (APPKEEPER_BENCH_ENDPOINTS only): read the body, answer 204."""
    _ = request.body
    return HttpResponse(status=204)


# --- errors ------------------------------------------------------------------------------


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links (Swagger UI's page, a bookmark,
    a feed reader); answer with the logo every page uses instead of a 404. A temporary
    redirect, because the logo's hashed file name changes with each release."""
    response = redirect(static("img/logo.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The designed 500 page, rendered without the request: context processors read the
    user and the database, and either may be what just failed. If even the template
    cannot render, a plain sentence is still better than a second error."""
    try:
        body = loader.get_template("500.html").render()
    except Exception:  # the page of last resort must not raise
        body = "<h1>Server error (500)</h1><p>Appkeeper could not answer this request.</p>"
    return HttpResponseServerError(body)
