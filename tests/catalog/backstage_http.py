"""A real HTTP server on 127.0.0.1 (port 0) serving catalog files, for the sync tests.

Files come from folders under ``tests/data/backstage``; ``routes`` adds answers of its own
(redirects, errors, big bodies). Every request is recorded with its headers, so a test
sees what was sent where (the token above all)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "backstage"


@dataclass
class Served:
    port: int
    files: dict[str, bytes] = field(default_factory=dict)
    # path -> (status, headers, body)
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/{path.lstrip('/')}"

    def add_folder(self, folder: str, prefix: str) -> None:
        root = DATA / folder
        for path in root.rglob("*"):
            if path.is_file():
                self.files[f"/{prefix}/{path.relative_to(root).as_posix()}"] = path.read_bytes()

    def headers_for(self, path: str) -> list[dict[str, str]]:
        return [headers for seen, headers in self.requests if seen == path]


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            headers = {k.lower(): v for k, v in self.headers.items()}
            served.requests.append((self.path, headers))
            if self.path in served.routes:
                status, extra, body = served.routes[self.path]
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                if "X-Unsized" not in extra:  # else the closed connection ends the body
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            body_or_none = served.files.get(self.path)
            if body_or_none is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.sha256(body_or_none).hexdigest()[:16] + '"'
            if headers.get("if-none-match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Type", "application/yaml")
            self.send_header("Content-Length", str(len(body_or_none)))
            self.end_headers()
            self.wfile.write(body_or_none)

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            return

    return Handler


@contextmanager
def catalog_server() -> Iterator[Served]:
    served = Served(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.port = server.server_address[1]
    served.add_folder("backstage-examples", "examples")
    served.add_folder("sync-fixture", "fixture")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
