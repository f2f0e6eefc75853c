"""A local production-shaped stack for the edge tests: gunicorn (sync workers, production
settings, PostgreSQL, Redis) behind Debian's nginx running the repository's template.

The environment of each process is docker-compose.yml's, with only what must differ on
one machine replaced (addresses, ports, paths), so the tests exercise the shipped config.
"""

from __future__ import annotations

import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.ops import compose

ROOT = compose.ROOT
TEMPLATES = ROOT / "config" / "nginx" / "templates"
IN_CI = os.environ.get("CI", "").lower() == "true"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
# Ports and Redis database reserved for these tests on shared machines.
GUNICORN_PORT = 18101
NGINX_PORT = 18102
NGINX_TLS_PORT = 18103
NGINX_TLS_HTTP_PORT = 18104
REDIS_URL = "redis://127.0.0.1:6379/13"


def unavailable(reason: str) -> None:
    """Skip outside CI, with the reason; under CI=true a missing piece is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def nginx_binary() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    unavailable("nginx is not installed (apt-get install -y nginx) for the edge tests")
    raise AssertionError("unreachable")


def render_templates(variables: Mapping[str, str], into: Path) -> None:
    """What the official image's entrypoint does: envsubst over every *.template, keeping
    the directory layout, replacing only the variables it is given."""
    names = "|".join(re.escape(name) for name in variables)
    pattern = re.compile(rf"\$\{{({names})\}}|\$({names})\b")
    for template in TEMPLATES.rglob("*.template"):
        target = into / template.relative_to(TEMPLATES).with_suffix("")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = template.read_text()
        target.write_text(pattern.sub(lambda m: variables[m.group(1) or m.group(2)], text))


def create_database() -> tuple[str, str]:
    """A PostgreSQL database of the tests' own; returns (its URL, the admin URL)."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    parsed = urlparse(base)
    admin = parsed._replace(path="/postgres").geturl()
    name = f"appkeeper_edge_stack_{os.getpid()}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL is not reachable at {parsed.hostname}:{parsed.port}: {error}")
    return parsed._replace(path=f"/{name}").geturl(), admin


def drop_database(url: str, admin: str) -> None:
    import psycopg

    name = urlparse(url).path.strip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def web_environment(database_url: str, static_root: Path) -> dict[str, str]:
    env = compose.service_environment("web", {"SECRET_KEY": "edge-" + "k7" * 30})
    env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=REDIS_URL,
        CACHE_URL=REDIS_URL,
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
    )
    keep = ("PATH", "HOME", "LANG")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, **env}


def manage(env: Mapping[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def wait_until_answering(port: int, path: str = "/healthz", seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, _, _ = get(port, path, timeout=2)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"nothing answered on port {port} within {seconds} s")


def get(
    port: int, path: str, timeout: float = 5, headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "localhost", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def start(command: list[str], env: Mapping[str, str] | None, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    """TERM, then KILL: the process is ours (its own session), and so are its children."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def nginx_main_config(directory: Path) -> Path:
    """The http{} frame the official image's nginx.conf provides, with every path it
    writes under ``directory`` so that no root and no system directory is needed."""
    user = ""
    if os.geteuid() == 0:  # workers would otherwise switch to "nobody"
        user = f"user {pwd.getpwuid(0).pw_name};"
    config = directory / "nginx.conf"
    temp = directory / "temp"
    temp.mkdir()
    config.write_text(
        f"""{user}
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log info;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {directory}/conf.d/*.conf;
}}
"""
    )
    return config


def start_nginx(directory: Path, variables: Mapping[str, str]) -> subprocess.Popen:
    """Render the templates with docker-compose.yml's nginx environment, ``variables``
    replacing what differs here, check the result with ``nginx -t``, and start nginx."""
    binary = nginx_binary()
    env = compose.service_environment("nginx", {})
    # An address, not a name, upstream: the resolver is never asked.
    env.update(NGINX_CONF_DIR=str(directory / "conf.d"), NGINX_RESOLVER="127.0.0.1")
    env.update(variables)
    render_templates(env, directory / "conf.d")
    config = nginx_main_config(directory)
    command = [binary, "-p", str(directory), "-c", str(config), "-e", str(directory / "error.log")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    return start(command, None, directory / "nginx.log")


def self_signed_certificate(directory: Path) -> None:
    """tls.crt and tls.key for localhost, as docker-compose.tls.yml expects them."""
    openssl = shutil.which("openssl")
    if openssl is None:
        unavailable("openssl is not installed, to make a test certificate")
    directory.mkdir()
    subprocess.run(
        [
            str(openssl),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(directory / "tls.key"),
            "-out",
            str(directory / "tls.crt"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


class SlowClient(threading.Thread):
    """One attacker connection: a request line, then either one header line a second
    (never ending the headers) or a complete header and a body trickled a byte a second.
    Records when the server closed the connection on it."""

    def __init__(self, port: int, kind: str) -> None:
        super().__init__(daemon=True)
        self.port, self.kind = port, kind
        self.stopping = threading.Event()
        self.connected_at = 0.0
        self.closed_at: float | None = None
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.connected_at = time.monotonic()

    def run(self) -> None:
        if self.kind == "header":
            first = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
        else:
            first = (
                b"POST /login/ HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 100000\r\n\r\n"
            )
        self.sock.settimeout(1)
        try:
            self.sock.sendall(first)
            n = 0
            while not self.stopping.wait(0):
                n += 1
                self.sock.sendall(f"X-Slow-{n}: 1\r\n".encode() if self.kind == "header" else b"a")
                try:
                    if self.sock.recv(4096) == b"":
                        break  # the server closed the connection
                except TimeoutError:
                    pass  # nothing said: the one-second pause between bytes
        except OSError:
            pass  # reset by the server
        self.closed_at = None if self.stopping.is_set() else time.monotonic()

    def close(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
        self.sock.close()


def close_all(clients: list[SlowClient]) -> None:
    for client in clients:  # all at once: each may sit out its one-second pause
        client.stopping.set()
    for client in clients:
        client.close()


def slow_clients(port: int, each: int) -> list[SlowClient]:
    clients = [SlowClient(port, kind) for kind in ("header", "body") for _ in range(each)]
    for client in clients:
        client.start()
    return clients
