"""A real ``celery -A config worker`` takes a task from Redis and completes it.

Needs Redis on 127.0.0.1:6379 (database 15); skipped with that reason when it does not
answer, except under ``CI=true`` where it must run. The worker gets its own SQLite file
(``DATABASE_URL``) and its own queue name, so it shares nothing with other test runs.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

from tests.conftest import IN_CI

BROKER = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping())
    except Exception:
        return False


SEED = """
from django.contrib.auth import get_user_model
from catalog.models import Notification
user = get_user_model().objects.create(username="worker", email="worker@example.com")
Notification.objects.create(recipient=user, kind="worker_test", subject="Worker test",
                            body="Sent by a real worker.", dedupe_key="worker-test")
"""


def test_a_real_worker_runs_a_task_enqueued_through_redis(tmp_path):
    if not redis_answers():
        reason = "needs Redis on 127.0.0.1:6379"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    db = tmp_path / "worker.sqlite3"
    queue = f"appkeeper-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "APPKEEPER_ENV": "development",
        "APPKEEPER_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{db}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True, timeout=180
    )
    subprocess.run([*manage, "shell", "-c", SEED], env=env, cwd=ROOT, check=True, timeout=60)

    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed below)
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        client = Celery(broker=BROKER)
        client.send_task("catalog.send_notifications", queue=queue)
        sent_at = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and sent_at is None:
            time.sleep(0.5)
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            with sqlite3.connect(db) as conn:
                row = conn.execute(
                    "SELECT sent_at FROM catalog_notification WHERE dedupe_key = 'worker-test'"
                ).fetchone()
            sent_at = row[0] if row else None
        output = (tmp_path / "worker.log").read_text()
        assert sent_at is not None, output[-3000:]
        assert "catalog.send_notifications" in output
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
