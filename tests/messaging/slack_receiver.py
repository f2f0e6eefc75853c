"""A stand-in for slack.com on 127.0.0.1: a real HTTP server that answers the Web API
methods Appkeeper calls (``users.info``, ``views.open``, ``chat.postMessage``) and records
every call, plus the ``response_url`` posts of interactions (any path under /respond/).

Point ``settings.SLACK_API_BASE_URL`` at :attr:`SlackReceiver.api_base`; hand payloads a
``response_url`` from :meth:`SlackReceiver.response_url`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TOKEN = "xoxb-test-token"


@dataclass
class Call:
    method: str  # "users.info", "views.open", "chat.postMessage", or "respond"
    path: str
    body: dict[str, Any]
    authorization: str = ""


@dataclass
class SlackReceiver:
    port: int = 0
    # Slack user id -> email, as users.info answers it.
    emails: dict[str, str] = field(default_factory=dict)
    # Web API method -> the error it answers with instead ("expired_trigger_id", ...).
    failures: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.base}/respond/{name}"

    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method in self.failures:
            return {"ok": False, "error": self.failures[method]}
        if method == "users.info":
            user = str(body.get("user", ""))
            if user not in self.emails:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": user, "profile": {"email": self.emails[user]}}}
        if method == "views.open":
            return {"ok": True, "view": {"id": f"V{len(self.of(method))}", **body.get("view", {})}}
        if method == "chat.postMessage":
            return {"ok": True, "channel": body.get("channel"), "ts": f"{len(self.of(method))}.0"}
        return {"ok": False, "error": "unknown_method"}


def _body(handler: BaseHTTPRequestHandler) -> dict[str, Any]:
    raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    query = dict(parse_qsl(urlsplit(handler.path).query))
    if not raw:
        return query
    if handler.headers.get("Content-Type", "").startswith("application/json"):
        return {**query, **json.loads(raw)}
    form = dict(parse_qsl(raw.decode()))
    # The SDK form-encodes nested values (a view) as JSON strings.
    for key, value in form.items():
        if value.startswith(("{", "[")):
            form[key] = json.loads(value)
    return {**query, **form}


def _handler(receiver: SlackReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            path = urlsplit(self.path).path
            body = _body(self)
            if path.startswith("/respond/"):
                call = Call("respond", path, body)
                answer: Any = "ok"
            elif path.startswith("/api/"):
                method = path.removeprefix("/api/")
                call = Call(method, path, body, self.headers.get("Authorization", ""))
                if call.authorization != f"Bearer {TOKEN}":
                    answer = {"ok": False, "error": "invalid_auth"}
                else:
                    answer = receiver.answer(method, body)
            else:
                self.send_response(404)
                self.end_headers()
                return
            with receiver.lock:
                receiver.calls.append(call)
            data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            self.send_response(200)
            self.send_header(
                "Content-Type", "text/plain" if isinstance(answer, str) else "application/json"
            )
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            return

    return Handler


@contextmanager
def slack_receiver() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
