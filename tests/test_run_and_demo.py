"""`make run` serves the port it is given and links follow it; the demo's role users can
use the Django admin, which labels its models in proper English."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_serves_the_given_port_and_sets_the_base_url():
    printed = subprocess.run(
        ["make", "-n", "run", "PORT=8123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout

    base = "APPKEEPER_BASE_URL=http://127.0.0.1:8123"
    assert f"{base} .venv/bin/celery -A config worker" in printed
    assert f"{base} .venv/bin/python manage.py runserver --insecure 127.0.0.1:8123" in printed


@pytest.mark.django_db
def test_the_demo_role_users_can_use_the_admin_even_if_they_existed_before(client):
    User = get_user_model()
    # Created earlier without staff status (by hand, or by an older demo loader).
    User.objects.create_user("fin", password="x")
    User.objects.create_user("pat", password="x")

    call_command("load_demo", "--usage-days", "1", stdout=io.StringIO())

    client.force_login(User.objects.get(username="pat"))
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "Telemetry deliveries" in index.content.decode()
    assert client.get("/admin/lifecycle/telemetrydelivery/").status_code == 200

    client.force_login(User.objects.get(username="fin"))
    assert client.get("/admin/lifecycle/usagereport/").status_code == 200
    assert User.objects.get(username="alice").is_staff is False
