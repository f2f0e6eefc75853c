"""Production configuration comes from the environment and fails loudly when it is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.env import database_from_url

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "APPKEEPER_ENV": "production",
    "SECRET_KEY": "k" * 30 + "abcdefghijklmnopqrstuvwxyz0123456789",
    "ALLOWED_HOSTS": "appkeeper.example.com",
    "DATABASE_URL": "postgres://appkeeper:secret@db.example.com:5432/appkeeper",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
}


def run_check(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    # Not inherited: DEBUG, and the async-safety switch the browser tests set for
    # themselves (the deploy check rightly refuses it).
    dropped = {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in dropped}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"]
)
def test_production_refuses_to_start_without_a_required_variable(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = run_check(env)
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://x@y/z"),
        ("DATABASE_URL", "postgres://host:notaport/db"),
        ("APPKEEPER_EXPIRY_DAYS", "ninety"),
        ("DEBUG", "maybe"),
        ("SECRET_KEY", "short"),
        ("APPKEEPER_REDIS_TIMEOUT_SECONDS", "0"),
        ("APPKEEPER_REDIS_TIMEOUT_SECONDS", "soon"),
    ],
)
def test_malformed_variables_name_themselves(variable, value):
    result = run_check({**PRODUCTION, variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_check(PRODUCTION, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


REDIS_CLIENTS = """
import json
from django.conf import settings
print(json.dumps({
    "cache": settings.CACHES["default"]["OPTIONS"],
    "broker": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "connect": settings.CELERY_BROKER_CONNECTION_TIMEOUT,
    "publish_retries": settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"],
    "email": settings.EMAIL_TIMEOUT,
}))
"""


def test_production_redis_clients_give_up_within_the_redis_timeout():
    """A dead Redis is noticed after APPKEEPER_REDIS_TIMEOUT_SECONDS, not after the OS
    connect timeout or kombu's reconnect loop (2 s sleeps until broker_connection_timeout)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env |= {**PRODUCTION, "CACHE_URL": "redis://redis.example.com:6379/1"}
    env["APPKEEPER_REDIS_TIMEOUT_SECONDS"] = "0.25"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", REDIS_CLIENTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    clients = json.loads(result.stdout.strip().splitlines()[-1])
    assert clients["cache"] == {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
    broker = clients["broker"]
    assert broker["socket_connect_timeout"] == 0.25 and broker["max_retries"] == 0
    assert broker["socket_timeout"] == 5.0  # above an idle worker's 1 s BRPOP
    assert broker["visibility_timeout"] == 3600
    assert clients["connect"] == 0.25 and clients["publish_retries"] == 1
    assert clients["email"] == 10


def test_database_urls_are_parsed():
    pg = database_from_url("DATABASE_URL", "postgresql://u:p%40ss@h:6543/app?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    parts = (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"])
    assert parts == ("u", "p@ss", "h", "6543", "app")
    assert pg["OPTIONS"] == {"sslmode": "require"}
    assert database_from_url("X", "sqlite:////tmp/a.db")["NAME"] == "/tmp/a.db"
    assert database_from_url("X", "sqlite:///var/a.db")["NAME"] == "var/a.db"


def _production_setting(name: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "diffsettings"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "DEBUG"}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return "".join(line for line in result.stdout.splitlines() if line.startswith(f"{name} ="))


def test_x_forwarded_proto_is_believed_only_behind_a_trusted_proxy():
    # Without a proxy the client writes X-Forwarded-Proto and could pass plain HTTP as secure.
    assert _production_setting("SECURE_PROXY_SSL_HEADER", PRODUCTION) == ""
    behind = _production_setting(
        "SECURE_PROXY_SSL_HEADER", {**PRODUCTION, "APPKEEPER_TRUSTED_PROXIES": "1"}
    )
    assert "HTTP_X_FORWARDED_PROTO" in behind


def test_a_default_token_lifetime_past_the_maximum_is_refused():
    result = run_check({"APPKEEPER_API_TOKEN_DAYS": "400", "APPKEEPER_API_TOKEN_MAX_DAYS": "365"})
    assert result.returncode != 0
    assert "APPKEEPER_API_TOKEN_DAYS must not exceed APPKEEPER_API_TOKEN_MAX_DAYS" in result.stderr
