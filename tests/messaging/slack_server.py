"""A local stand-in for Slack's hosts: a real HTTP server on 127.0.0.1 (port 0) that
answers the Web API methods Appkeeper calls the way slack.com does, and records every
request.

Use it as a context manager and point the settings at it::

    with SlackServer(token="xoxb-test") as slack:
        slack.configure(settings)            # SLACK_API_BASE_URL and SLACK_BOT_TOKEN
        slack.add_user("U1", "alice@example.com")
        ...                                  # code under test calls Slack
        [post] = slack.calls("chat.postMessage")
        post.body["channel"], post.body["blocks"]

Methods (under ``/api/``):

* ``chat.postMessage`` -> ``{"ok": true, "channel", "ts", "message"}``
* ``users.lookupByEmail`` -> the user added with :meth:`add_user`, else ``users_not_found``
* ``users.info`` -> the user by id, else ``user_not_found``
* ``views.open`` -> ``{"ok": true, "view": {...with an id}}``
* any other method -> ``unknown_method``

A request whose bearer token is not ``token`` is answered ``invalid_auth``. Interaction
``response_url`` posts go to :meth:`response_url` addresses (``/responses/<name>``) and
are answered ``{"ok": true}``.

:meth:`respond` makes a method answer differently, for the next ``times`` calls or until
reset: ``slack.respond("chat.postMessage", error="token_revoked")``,
``slack.respond("chat.postMessage", status=429, error="ratelimited",
headers={"Retry-After": "30"})``. Slack answers its errors with HTTP 200 and
``{"ok": false, "error": ...}``, except rate limits (429); so does this server.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Call:
    """One request the server received: the method (or ``response:<name>``), the bearer
    token, the body as parsed (JSON, form or query parameters) and the raw headers."""

    method: str
    token: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Override:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str]
    times: int | None  # None: until reset


@dataclass
class SlackState:
    token: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    calls: list[Call] = field(default_factory=list)
    overrides: dict[str, list[Override]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ts: count = field(default_factory=lambda: count(1))


class SlackServer:
    def __init__(self, *, token: str = "xoxb-appkeeper-test") -> None:
        self.state = SlackState(token=token)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> SlackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def configure(self, settings) -> None:
        """Point pytest-django's ``settings`` at this server."""
        settings.SLACK_API_BASE_URL = self.api_url
        settings.SLACK_BOT_TOKEN = self.state.token

    def response_url(self, name: str = "default") -> str:
        return f"{self.url}/responses/{name}"

    def add_user(self, user_id: str, email: str, **profile: Any) -> None:
        with self.state.lock:
            self.state.users[user_id] = {
                "id": user_id,
                "name": email.split("@")[0],
                "profile": {"email": email, **profile},
                "deleted": False,
            }

    def respond(
        self,
        method: str,
        *,
        error: str = "",
        status: int = 200,
        payload: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer ``method`` with ``payload`` (default ``{"ok": false, "error": error}``)
        for the next ``times`` calls (``None``: until :meth:`reset`)."""
        body = payload if payload is not None else {"ok": False, "error": error}
        with self.state.lock:
            self.state.overrides.setdefault(method, []).append(
                Override(status=status, payload=body, headers=dict(headers or {}), times=times)
            )

    def reset(self, method: str | None = None) -> None:
        with self.state.lock:
            if method is None:
                self.state.overrides.clear()
            else:
                self.state.overrides.pop(method, None)

    def calls(self, method: str | None = None) -> list[Call]:
        with self.state.lock:
            return [c for c in self.state.calls if method is None or c.method == method]


def _handler(state: SlackState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # the test output is for the tests

        def do_GET(self) -> None:  # noqa: N802
            self._handle()

        def do_POST(self) -> None:  # noqa: N802
            self._handle()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            body = dict(parse_qsl(parts.query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if raw:
                if "json" in (self.headers.get("Content-Type") or ""):
                    body.update(json.loads(raw))
                else:
                    body.update(parse_qsl(raw.decode()))
            auth = self.headers.get("Authorization") or ""
            token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
            if parts.path.startswith("/responses/"):
                method = "response:" + parts.path.removeprefix("/responses/")
            else:
                method = parts.path.removeprefix("/api/")
            token = token or str(body.get("token", ""))
            with state.lock:
                state.calls.append(Call(method, token, body, dict(self.headers.items())))
                status, payload, headers = _answer(state, method, token, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _answer(
    state: SlackState, method: str, token: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Slack's answer to one call (the caller holds the lock)."""
    queued = state.overrides.get(method)
    if queued:
        override = queued[0]
        if override.times is not None:
            override.times -= 1
            if override.times <= 0:
                queued.pop(0)
        return override.status, override.payload, override.headers
    if method.startswith("response:"):
        return 200, {"ok": True}, {}
    if token != state.token:
        return 200, {"ok": False, "error": "invalid_auth"}, {}
    if method == "chat.postMessage":
        if not body.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        if not body.get("text") and not body.get("blocks"):
            return 200, {"ok": False, "error": "no_text"}, {}
        ts = f"1700000000.{next(state.ts):06d}"
        message = {"type": "message", "text": body.get("text", ""), "ts": ts}
        if body.get("blocks"):
            message["blocks"] = body["blocks"]
        return 200, {"ok": True, "channel": body["channel"], "ts": ts, "message": message}, {}
    if method == "users.lookupByEmail":
        email = str(body.get("email", "")).lower()
        for user in state.users.values():
            if user["profile"]["email"].lower() == email:
                return 200, {"ok": True, "user": user}, {}
        return 200, {"ok": False, "error": "users_not_found"}, {}
    if method == "users.info":
        user = state.users.get(str(body.get("user", "")))
        if user is None:
            return 200, {"ok": False, "error": "user_not_found"}, {}
        return 200, {"ok": True, "user": user}, {}
    if method == "views.open":
        if not body.get("trigger_id"):
            return 200, {"ok": False, "error": "invalid_trigger_id"}, {}
        view = body.get("view") or {}
        view = dict(json.loads(view) if isinstance(view, str) else view)
        view["id"] = f"V{next(state.ts):08d}"
        return 200, {"ok": True, "view": view}, {}
    return 200, {"ok": False, "error": "unknown_method"}, {}
