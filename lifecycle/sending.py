"""The "Send telemetry" panel: how a running app signs and sends its heartbeat.

A production app goes live only with a recent heartbeat, and its ingestion secret is
shown once. So the panel states the endpoint, the headers and the body, and gives
snippets for a shell (curl + openssl), Python (standard library only) and Node (built-in
crypto and fetch) that embed the app's slug and the endpoint and read the secret from
``APPKEEPER_SECRET``. Its status polls until the first heartbeat is recorded.

The snippets are rendered from templates under ``lifecycle/snippets/``; every value put
into them is quoted for its language here, so no slug or configured URL can break out of
its string. The tests run each snippet against a live server.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from catalog import permissions
from catalog.choices import AppState, Environment
from catalog.models import MicroApp
from lifecycle.models import TelemetryDelivery

SECRET_VARIABLE = "APPKEEPER_SECRET"
POLL_SECONDS = 5


@dataclass(frozen=True)
class Snippet:
    key: str
    label: str
    filename: str
    run: str  # how to run the saved file
    code: str


def endpoint_url() -> str:
    """The telemetry endpoint as senders reach it: ``APPKEEPER_BASE_URL``, like the links
    in emails, not the host this page happened to be requested on."""
    return settings.APPKEEPER_BASE_URL.rstrip("/") + reverse("api:telemetry")


def heartbeat_body(slug: str) -> str:
    """The exact bytes a heartbeat sends: the signature covers them, so the snippets send
    this string as it is rather than re-serialising it."""
    return json.dumps({"app": slug, "reports": []}, separators=(",", ":"))


def snippets(slug: str) -> list[Snippet]:
    url, body = endpoint_url(), heartbeat_body(slug)
    shell = {"url": shlex.quote(url), "body": shlex.quote(body), "slug": slug}
    # A JSON string is a valid string literal in both Python and JavaScript.
    literal = {"url": json.dumps(url), "slug": json.dumps(slug), "slug_text": slug}
    variable = {"variable": SECRET_VARIABLE}
    return [
        Snippet(
            "shell",
            "curl + openssl",
            "send-heartbeat.sh",
            "sh send-heartbeat.sh",
            _render("lifecycle/snippets/heartbeat.sh.txt", {**shell, **variable}),
        ),
        Snippet(
            "python",
            "Python",
            "send_heartbeat.py",
            "python3 send_heartbeat.py",
            _render("lifecycle/snippets/heartbeat.py.txt", {**literal, **variable}),
        ),
        Snippet(
            "node",
            "Node",
            "send-heartbeat.mjs",
            "node send-heartbeat.mjs",
            _render("lifecycle/snippets/heartbeat.mjs.txt", {**literal, **variable}),
        ),
    ]


def _render(template: str, context: dict) -> str:
    # The snippet templates turn autoescaping off: they are code, escaped once for HTML
    # where the panel shows them.
    return render_to_string(template, context).strip() + "\n"


def may_see(user, app: MicroApp) -> bool:
    """Whoever may rotate the secret may see how to use it; a retired app takes none."""
    return app.state != AppState.RETIRED and permissions.can_rotate_secret(user, app)


def status_context(app: MicroApp, *, now: datetime | None = None) -> dict:
    """Whether a heartbeat has arrived, and when the first one did.

    ``last_seen_at`` is set by every accepted delivery; the first heartbeat's time is the
    oldest delivery record still kept (one aggregate, only once something arrived). The
    records are pruned after a week, after which the panel states the last heartbeat only.
    """
    now = now or timezone.now()
    received = app.last_seen_at is not None
    first = None
    if received:
        first = TelemetryDelivery.objects.filter(app_id=app.pk).aggregate(at=Min("received_at"))[
            "at"
        ]
    hours = settings.APPKEEPER_HEARTBEAT_HOURS
    return {
        "app": app,
        "now": now,
        "received": received,
        "first_heartbeat_at": first,
        "last_seen_at": app.last_seen_at,
        "fresh": received and app.last_seen_at >= now - timedelta(hours=hours),
        "heartbeat_hours": hours,
        "poll_seconds": POLL_SECONDS,
        "gate_needs_heartbeat": app.environment == Environment.PRODUCTION,
    }


def panel_context(request, app: MicroApp) -> dict | None:
    """The panel for the app's owners and the platform team. One query at most (the first
    heartbeat's time), plus the user's teams and groups, cached on the request's user."""
    if not may_see(request.user, app):
        return None
    return {
        **status_context(app),
        "endpoint": endpoint_url(),
        "body": heartbeat_body(app.slug),
        "snippets": snippets(app.slug),
        "secret_variable": SECRET_VARIABLE,
        "has_secret": bool(app.ingestion_secret),
        "tolerance_seconds": settings.APPKEEPER_TELEMETRY_TOLERANCE_SECONDS,
    }
