"""``manage.py check --deploy --fail-level WARNING`` passes with production settings: the
hand-picked ones, and exactly what docker-compose.yml gives the web service by default."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops import compose

ROOT = Path(__file__).resolve().parents[2]


def run_deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_passes_with_production_settings():
    env = {
        **os.environ,
        "APPKEEPER_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "appkeeper.example.com",
        "DATABASE_URL": "postgres://appkeeper@127.0.0.1:5432/appkeeper",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for themselves
    result = run_deploy_check(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def compose_web_environment() -> dict[str, str]:
    # Only what the operator must set (SECRET_KEY is required, `${SECRET_KEY:?...}`);
    # everything else is the file's default. The process inherits nothing Django reads:
    # only what a container's shell would have anyway.
    web = compose.service_environment("web", {"SECRET_KEY": secrets.token_urlsafe(64)})
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return {**base, **web}


def test_deploy_check_passes_with_the_docker_compose_defaults():
    result = run_deploy_check(compose_web_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(1 silenced)" in result.stdout  # W008: nginx redirects to HTTPS, not Django


def test_the_compose_defaults_put_https_at_the_proxy_and_trust_it():
    web = compose_web_environment()
    assert web["APPKEEPER_HTTPS_AT_PROXY"] == "true"
    assert web["APPKEEPER_TRUSTED_PROXIES"] == "1"
    services = compose.load()["services"]
    # Only nginx is published; gunicorn's sync workers are never reachable directly.
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["nginx"]
    assert services["nginx"]["image"].startswith("nginx:1.")


def test_without_a_trusted_proxy_https_at_the_proxy_is_refused():
    env = {**compose_web_environment(), "APPKEEPER_TRUSTED_PROXIES": "0"}
    result = run_deploy_check(env)
    assert result.returncode != 0
    assert "APPKEEPER_HTTPS_AT_PROXY" in result.stderr


def test_the_deploy_check_still_warns_when_nothing_redirects_to_https():
    # The silence is earned by the proxy: without APPKEEPER_HTTPS_AT_PROXY the warning is back.
    env = {**compose_web_environment(), "APPKEEPER_HTTPS_AT_PROXY": "false"}
    env["SECURE_SSL_REDIRECT"] = "false"
    result = run_deploy_check(env)
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_compose_requires_what_it_cannot_default():
    with pytest.raises(compose.MissingVariable, match="SECRET_KEY"):
        compose.service_environment("web", {})
