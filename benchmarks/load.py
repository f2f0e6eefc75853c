"""The load driver of the telemetry benchmark: runs in its own process, never in the server's.

Threads POST signed telemetry (Standard Webhooks) to 127.0.0.1 for a bounded time and count
2xx answers. Each request opens a new connection, as gunicorn's sync workers close them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing
import random
import threading
import time
import uuid


def signed(secret: str, body: bytes) -> dict:
    msg_id = f"msg_{uuid.uuid4().hex}"
    timestamp = str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def _worker(port, path, targets, day, deadline, counts, lock, seed) -> None:
    rng = random.Random(seed)
    ok = errors = 0
    sample = ""
    while time.monotonic() < deadline:
        slug, secret, region = rng.choice(targets)
        report = {
            "date": day,
            "region": region,
            "requests": rng.randint(1, 5000),
            "errors": 0,
            "p95_ms": 120.0,
            "cost": "0.50",
        }
        body = json.dumps({"app": slug, "reports": [report]}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("POST", path, body, signed(secret, body))
            response = conn.getresponse()
            text = response.read()
            if 200 <= response.status < 300:
                ok += 1
            else:
                errors += 1
                sample = sample or f"{response.status} {text[:200]!r}"
        except OSError as exc:
            errors += 1
            sample = sample or repr(exc)
        finally:
            conn.close()
    with lock:
        counts["ok"] += ok
        counts["errors"] += errors
        counts["sample"] = counts["sample"] or sample


def drive(port, path, targets, day, seconds, threads, queue) -> None:
    counts = {"ok": 0, "errors": 0, "sample": ""}
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + seconds
    pool = [
        threading.Thread(target=_worker, args=(port, path, targets, day, deadline, counts, lock, i))
        for i in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    counts["seconds"] = time.monotonic() - start
    queue.put(counts)


def run_in_process(port, path, targets, day, seconds, threads) -> dict:
    """Drive the load from a separate (spawned) process and return its counts."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=drive, args=(port, path, targets, day, seconds, threads, queue))
    process.start()
    result = queue.get(timeout=seconds + 60)
    process.join(timeout=30)
    return result
