"""The production edge under slow clients: nginx (the repository's template, rendered as
the official image renders it) in front of gunicorn's sync workers, PostgreSQL and Redis.

Slow clients (headers sent a line a second, bodies a byte a second) hold every sync worker
of a bare gunicorn; behind nginx the same clients cost nothing but an nginx connection,
and ordinary requests are answered at once. The stack runs with a 3 s client timeout
instead of compose's 10 s, to keep the test short.
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import ssl
import time

import pytest
from django.conf import settings

from core.headers import render_permissions_policy
from tests.ops import compose
from tests.ops.edge_stack import (
    GUNICORN,
    GUNICORN_PORT,
    NGINX_PORT,
    NGINX_TLS_HTTP_PORT,
    NGINX_TLS_PORT,
    close_all,
    create_database,
    drop_database,
    get,
    manage,
    nginx_binary,
    self_signed_certificate,
    slow_clients,
    start,
    start_nginx,
    stop,
    wait_until_answering,
    web_environment,
)

CLIENT_TIMEOUT = 3  # seconds; compose's default is 10
PROMPT = 5  # seconds: what "answered promptly" allows on a loaded two-core machine
SLOW_EACH = 8  # slow-header and slow-body connections each


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    nginx_binary()  # skips (or fails under CI) before anything is set up
    directory = tmp_path_factory.mktemp("edge")
    database, admin = create_database()
    processes = []
    try:
        env = web_environment(database, directory / "static")
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        gunicorn = start(
            [
                GUNICORN,
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{GUNICORN_PORT}",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--timeout",
                "30",
            ],
            env,
            directory / "gunicorn.log",
        )
        processes.append(gunicorn)
        wait_until_answering(GUNICORN_PORT)

        nginx = start_nginx(
            directory,
            {
                "APPKEEPER_UPSTREAM": f"127.0.0.1:{GUNICORN_PORT}",
                "NGINX_HTTP_PORT": str(NGINX_PORT),
                "NGINX_STATIC_PARENT": str(directory),
                "NGINX_CLIENT_TIMEOUT": f"{CLIENT_TIMEOUT}s",
            },
        )
        processes.append(nginx)
        wait_until_answering(NGINX_PORT)
        yield directory
    finally:
        for process in reversed(processes):
            stop(process)
        drop_database(database, admin)


def test_slow_clients_do_not_stall_the_site_behind_nginx(stack):
    clients = slow_clients(NGINX_PORT, SLOW_EACH)
    try:
        time.sleep(1.5)  # every slow client is connected and dribbling
        started = time.monotonic()
        # Probe across the client timeout: before it and after nginx dropped the headers.
        while time.monotonic() - started < CLIENT_TIMEOUT + 2:
            for path, expected in (("/healthz", 200), ("/login/", 200)):
                before = time.monotonic()
                status, _, _ = get(NGINX_PORT, path, timeout=PROMPT)
                assert status == expected, path
                assert time.monotonic() - before < PROMPT
            time.sleep(0.5)
        header_clients = [c for c in clients if c.kind == "header"]
        body_clients = [c for c in clients if c.kind == "body"]
        # nginx closed every connection whose headers did not arrive within the timeout...
        for client in header_clients:
            assert client.closed_at is not None, "nginx kept a header dribbler open"
            assert client.closed_at - client.connected_at < CLIENT_TIMEOUT + 2
        # ...and holds the body tricklers itself (never silent for 3 s, so not timed out),
        # buffering their bodies instead of handing them to a gunicorn worker.
        assert all(client.closed_at is None for client in body_clients)
    finally:
        close_all(clients)


def test_the_same_slow_clients_stall_bare_gunicorn(stack):
    # The control: without nginx, the sync workers are each held by a slow client and
    # a health check waits in the listen queue behind the others.
    clients = slow_clients(GUNICORN_PORT, SLOW_EACH)
    try:
        time.sleep(1.5)
        with pytest.raises((TimeoutError, socket.timeout)):
            get(GUNICORN_PORT, "/healthz", timeout=3)
    finally:
        close_all(clients)
    wait_until_answering(GUNICORN_PORT, seconds=40)  # closed sockets free the workers


def test_nginx_serves_static_files_with_caching_and_the_policies(stack):
    manifest = json.loads((stack / "static" / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/app.css"]
    status, headers, body = get(
        NGINX_PORT, f"/static/{hashed}", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["content-type"].startswith("text/css")
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-encoding"] == "gzip"  # whitenoise's .gz, served as is
    assert b".htmx-indicator" in gzip.decompress(body)
    assert headers["x-content-type-options"] == "nosniff"
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none'
    assert headers["permissions-policy"] == render_permissions_policy(
        settings.APPKEEPER_PERMISSIONS_POLICY
    )
    status, headers, _ = get(NGINX_PORT, "/static/img/logo.svg")
    assert status == 200 and headers["cache-control"] == "public, max-age=3600"
    assert "default-src 'none'" in headers["content-security-policy"]


def test_django_answers_through_nginx_with_its_headers_and_the_real_scheme(stack):
    # A client claiming HTTPS over plain HTTP: nginx overwrites X-Forwarded-Proto, so
    # Django (which trusts one proxy) sees HTTP and sends no HSTS.
    status, headers, _ = get(
        NGINX_PORT,
        "/login/",
        headers={"X-Forwarded-Proto": "https", "X-Request-ID": "edge-test-1"},
    )
    assert status == 200
    assert "strict-transport-security" not in headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "camera=()" in headers["permissions-policy"]
    assert headers["x-request-id"] == "edge-test-1"
    assert "server" not in headers or "nginx/" not in headers["server"]  # server_tokens off


def test_an_oversized_body_is_refused_by_nginx_in_json(stack):
    limit = settings.APPKEEPER_MAX_REQUEST_BYTES
    web = compose.service_environment("web", {"SECRET_KEY": "x"})
    nginx = compose.service_environment("nginx", {})
    # Django and nginx refuse the same bodies, by default and by construction.
    assert int(web["APPKEEPER_MAX_REQUEST_BYTES"]) == limit
    assert int(nginx["NGINX_CLIENT_MAX_BODY_SIZE"]) == limit
    with socket.create_connection(("127.0.0.1", NGINX_PORT), timeout=PROMPT) as sock:
        sock.sendall(
            b"POST /api/v1/apps/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
            + f"Content-Length: {limit + 1}\r\n\r\n".encode()
        )
        # As curl does for a large body: wait for "100 Continue" first; nginx answers 413
        # instead, and the body is never sent.
        # Read by Content-Length: nginx then lingers for the body it refused, and resets.
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(body)["detail"] == (
        f"Request body is larger than the limit of {limit} bytes."
    )


def test_with_tls_on_nginx_serves_https_and_redirects_plain_http(stack, tmp_path):
    # What docker-compose.tls.yml turns on: the TLS server from tls-on/, certificates in
    # NGINX_TLS_DIR, plain HTTP answered with a redirect only.
    self_signed_certificate(tmp_path / "tls")
    nginx = start_nginx(
        tmp_path,
        {
            "APPKEEPER_UPSTREAM": f"127.0.0.1:{GUNICORN_PORT}",
            "APPKEEPER_TLS": "on",
            "NGINX_HTTP_PORT": str(NGINX_TLS_HTTP_PORT),
            "NGINX_HTTPS_PORT": str(NGINX_TLS_PORT),
            "NGINX_TLS_DIR": str(tmp_path / "tls"),
            "NGINX_STATIC_PARENT": str(stack),
        },
    )
    try:
        wait_until_answering(NGINX_TLS_HTTP_PORT)
        status, headers, _ = get(NGINX_TLS_HTTP_PORT, "/login/?next=/apps/")
        assert status == 308 and headers["location"] == "https://localhost/login/?next=/apps/"

        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "tls.crt"))
        conn = http.client.HTTPSConnection(
            "localhost", NGINX_TLS_PORT, timeout=PROMPT, context=context
        )
        try:
            conn.request("GET", "/login/")
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        assert response.status == 200
        # Django believed nginx's X-Forwarded-Proto: the request was secure.
        assert response.getheader("Strict-Transport-Security", "").startswith("max-age=")
        assert "Secure" in response.getheader("Set-Cookie", "")
        assert "script-src 'self'" in response.getheader("Content-Security-Policy", "")
    finally:
        stop(nginx)


def test_when_gunicorn_is_down_nginx_answers_503_in_the_right_format(stack, tmp_path):
    # Port 18149 (reserved for these tests) has nothing listening: as during a restart.
    nginx = start_nginx(
        tmp_path,
        {
            "APPKEEPER_UPSTREAM": "127.0.0.1:18149",
            "NGINX_HTTP_PORT": str(NGINX_TLS_HTTP_PORT),
            "NGINX_STATIC_PARENT": str(stack),
        },
    )
    try:
        wait_until_answering(NGINX_TLS_HTTP_PORT, "/static/img/logo.svg")
        status, headers, body = get(NGINX_TLS_HTTP_PORT, "/api/v1/apps/")
        assert status == 503 and headers["content-type"] == "application/json"
        assert headers["retry-after"] == "10"
        assert json.loads(body)["detail"].startswith("Appkeeper is restarting")
        status, headers, body = get(NGINX_TLS_HTTP_PORT, "/apps/")
        assert status == 503 and headers["content-type"].startswith("text/html")
        assert b"<h1>Appkeeper is restarting</h1>" in body
        assert "default-src 'none'" in headers["content-security-policy"]
    finally:
        stop(nginx)
