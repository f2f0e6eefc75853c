"""Views of the platform itself: health, the favicon, the error pages, and the benchmark floor."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready", reported, not raised
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _broker() -> str:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
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
