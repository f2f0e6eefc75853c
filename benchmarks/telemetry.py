"""Signed telemetry under gunicorn (2 workers), driven from another process, against a bare view."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.harness import (
    LOAD_SECONDS,
    LOAD_THREADS,
    ROOT,
    add,
    count_queries,
    say,
    skip,
)

TELEMETRY_TARGET = 300  # accepted calls a second on 2 gunicorn workers


# --- 4. telemetry under gunicorn ------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return port if port != 8000 else free_port()


def bench_telemetry(url: str) -> None:
    from django.urls import NoReverseMatch, reverse

    from catalog.models import MicroApp

    try:
        path = reverse("api:telemetry")
    except NoReverseMatch:
        skip("telemetry POSTs", "no telemetry endpoint yet")
        return
    apps = list(
        MicroApp.objects.filter(slug__startswith="seed-", state="active")
        .exclude(ingestion_secret="")
        .prefetch_related("regions")[:200]
    )
    targets = [(a.slug, a.ingestion_secret, a.regions.all()[0].code) for a in apps]
    queries = telemetry_queries(path, targets[0], (date.today() - timedelta(days=1)).isoformat())
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "APPKEEPER_BENCH_ENDPOINTS": "true",
        "APPKEEPER_THROTTLE_TELEMETRY": "10000000/min",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        from benchmarks import load

        day = (date.today() - timedelta(days=1)).isoformat()
        rates = {"telemetry": [], "bare": []}
        for _ in range(3):
            for kind, target_path in (("bare", "/bench/noop"), ("telemetry", path)):
                result = load.run_in_process(
                    port, target_path, targets, day, LOAD_SECONDS, LOAD_THREADS
                )
                if result["errors"]:
                    say(f"    {kind}: {result['errors']} non-2xx answers, e.g. {result['sample']}")
                rates[kind].append(result["ok"] / result["seconds"])
        telemetry = statistics.median(rates["telemetry"])
        bare = statistics.median(rates["bare"])
        # The target is absolute (accepted calls a second); the ratio to the bare view on
        # the same server is reported beside it to tell the code's cost from the load.
        add(
            "signed telemetry POSTs, gunicorn 2 workers",
            telemetry,
            queries,
            bare,
            telemetry / bare,
            f"≥ {TELEMETRY_TARGET} req/s",
            telemetry >= TELEMETRY_TARGET,
            unit="req/s",
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def telemetry_queries(path: str, target: tuple[str, str, str], day: str) -> int:
    """The queries of one accepted call with one report, in process (warmed up once)."""
    from django.test import Client

    from benchmarks.load import signed

    slug, secret, region = target
    report = {"date": day, "region": region, "requests": 1, "errors": 0, "cost": "0.50"}
    body = json.dumps({"app": slug, "reports": [report]}).encode()
    client = Client()

    def post():
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed(secret, body).items()
        }
        response = client.post(path, body, content_type="application/json", **headers)
        assert response.status_code == 202, response.content

    post()
    return count_queries(post)


def wait_for(port: int) -> None:
    import http.client

    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")
