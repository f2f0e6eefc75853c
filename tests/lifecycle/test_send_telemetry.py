"""The "Send telemetry" panel: a citizen developer takes a production app live from the UI.

The snippets are not just shown: each one is taken out of the rendered page, given a real
secret issued for the app, and run against a live server with its own runtime (sh + curl
+ openssl, the venv's Python, Node), which must get a 2xx and record the heartbeat.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.html import escape

from catalog.choices import AppState
from catalog.models import MicroApp
from core import formats
from lifecycle import services
from lifecycle.models import TelemetryDelivery
from tests.factories import MicroAppFactory

from .conftest import SECRET, sign

IN_CI = os.environ.get("CI", "").lower() == "true"


def _draft(owner, team, **kwargs) -> MicroApp:
    kwargs.setdefault("slug", "ticket-router")
    return MicroAppFactory(
        owner=owner, team=team, name="Ticket Router", environment="production", **kwargs
    )


def _snippet(page: str, key: str) -> str:
    found = re.search(rf'<code id="snippet-{key}-code">(.*?)</code>', page, re.S)
    assert found, f"no {key} snippet on the page"
    return html.unescape(found.group(1))


def _panel(page: str) -> str:
    found = re.search(r'<section class="card panel panel--telemetry".*?</section>\s*\n', page, re.S)
    assert found, "no Send telemetry panel"
    return found.group(0)


# --- the panel -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_panel_embeds_the_slug_and_the_configured_endpoint(
    client, alice, support_tools, settings
):
    settings.APPKEEPER_BASE_URL = "https://appkeeper.example.com/"
    app = _draft(alice, support_tools)
    client.force_login(alice)

    page = client.get(app.get_absolute_url()).content.decode()

    panel = _panel(page)
    endpoint = "https://appkeeper.example.com/api/v1/telemetry/"
    assert f"POST {endpoint}" in panel
    assert escape('{"app":"ticket-router","reports":[]}') in panel
    for key in ("shell", "python", "node"):
        code = _snippet(page, key)
        assert endpoint in code and "ticket-router" in code
        assert "APPKEEPER_SECRET" in code and "whsec_" in code
    # A Content-Security-Policy without 'unsafe-inline' must not break the panel.
    assert "<script" not in panel and "style=" not in panel
    assert not re.search(r"\son[a-z]+=", panel)
    assert "No ingestion secret yet" not in panel
    assert 'href="#lifecycle-secret"' in panel and "create one" in panel


@pytest.mark.django_db
def test_the_panel_is_for_the_apps_owners_and_the_platform_team(
    client, alice, carol, pat, support_tools
):
    app = _draft(alice, support_tools, state=AppState.ACTIVE)
    for user, shown in ((alice, True), (pat, True), (carol, False)):
        client.force_login(user)
        page = client.get(app.get_absolute_url()).content.decode()
        assert ('id="panel-telemetry"' in page) is shown, user
        # The checklist links to the panel only for someone who sees it.
        assert ('href="#panel-telemetry"' in page) is shown, user


@pytest.mark.django_db
def test_the_checklists_heartbeat_item_links_to_the_panel(client, alice, support_tools):
    app = _draft(alice, support_tools)
    client.force_login(alice)

    page = client.get(app.get_absolute_url()).content.decode()

    item = re.search(
        r'<li class="checklist__item[^"]*" data-check="heartbeat">.*?</li>', page, re.S
    )
    assert item and 'href="#panel-telemetry"' in item.group(0)
    assert "How to send a heartbeat" in item.group(0)


@pytest.mark.django_db
def test_the_status_polls_until_the_first_heartbeat_then_shows_its_time(
    client, alice, support_tools, django_assert_max_num_queries
):
    app = _draft(alice, support_tools, ingestion_secret=SECRET)
    client.force_login(alice)
    url = f"/apps/{app.slug}/telemetry-status/"

    with django_assert_max_num_queries(4):
        waiting = client.get(url, HTTP_HX_REQUEST="true")
    assert waiting.status_code == 200
    assert 'hx-trigger="every 5s"' in waiting.content.decode()
    assert "Waiting for the first heartbeat" in waiting.content.decode()

    first = timezone.now().replace(microsecond=0) - timedelta(minutes=3)
    with time_machine.travel(first, tick=False):
        body = b'{"app":"ticket-router","reports":[]}'
        accepted = client.post(
            "/api/v1/telemetry/", body, content_type="application/json", **sign(body)
        )
    assert accepted.status_code == 202
    body = b'{"app":"ticket-router","reports":[]}'
    later = client.post(
        "/api/v1/telemetry/",
        body,
        content_type="application/json",
        **sign(body, msg_id="msg_2"),
    )
    assert later.status_code == 202

    # The answer that stops the polling also brings the go-live checklist, ticked (one
    # query of it asks whether the app calls a retired app, one reads its observed calls
    # for the policy findings).
    with django_assert_max_num_queries(10):
        done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    status = done.split('<div class="gate"')[0]
    assert "hx-trigger" not in status
    assert "✓" in status
    assert f'First heartbeat received <time datetime="{first.isoformat()}"' in status
    assert formats.moment(first) in status
    assert '<div class="gate" id="gate-panel" hx-swap-oob="true">' in done
    item = re.search(r'data-check="heartbeat">\s*<span class="checklist__tick"[^>]*>(.)<', done)
    assert item and item.group(1) == "✓"
    # Without htmx (a plain GET) the status alone.
    assert "gate-panel" not in client.get(url).content.decode()


@pytest.mark.django_db
def test_the_status_is_for_those_who_see_the_panel(client, alice, carol, support_tools):
    app = _draft(alice, support_tools, state=AppState.ACTIVE)
    url = f"/apps/{app.slug}/telemetry-status/"
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(carol)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 405


@pytest.mark.django_db
def test_the_status_query_count_does_not_grow_with_deliveries(
    client, alice, support_tools, django_assert_max_num_queries
):
    app = _draft(alice, support_tools, ingestion_secret=SECRET, last_seen_at=timezone.now())
    TelemetryDelivery.objects.bulk_create(
        TelemetryDelivery(
            app=app, webhook_id=f"msg_{n}", body_sha256="0" * 64, status_code=202, response={}
        )
        for n in range(200)
    )
    client.force_login(alice)
    with django_assert_max_num_queries(5):
        assert client.get(f"/apps/{app.slug}/telemetry-status/").status_code == 200


@pytest.mark.django_db
def test_the_one_time_secret_page_shows_a_code_block_and_no_inline_script(
    client, alice, support_tools
):
    app = _draft(alice, support_tools)
    client.force_login(alice)

    page = client.post(f"/apps/{app.slug}/rotate-secret/").content.decode()

    # Focusable and named, so a keyboard user can scroll its long lines.
    assert re.search(
        r'<pre class="code-block" tabindex="0" role="region" aria-label="Heartbeat snippet">'
        r'<code id="snippet-once-code">',
        page,
    )
    code = _snippet(page, "once")
    assert "ticket-router" in code and "standardwebhooks" not in code
    assert "onfocus" not in page and "data-select-on-focus" in page
    assert 'href="/apps/ticket-router/#panel-telemetry"' in page


# --- the snippets, run -------------------------------------------------------------------------


def _runtime(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        if IN_CI:
            pytest.fail(f"{', '.join(missing)} not installed; CI runs every snippet.")
        pytest.skip(f"{', '.join(missing)} not on PATH: cannot run this snippet here")


SNIPPETS = {
    "shell": (("sh", "curl", "openssl", "od"), "send-heartbeat.sh", lambda path: ["sh", path]),
    "python": ((), "send_heartbeat.py", lambda path: [sys.executable, path]),
    "node": (("node",), "send-heartbeat.mjs", lambda path: ["node", path]),
}


@pytest.mark.parametrize("language", list(SNIPPETS))
def test_each_snippet_sends_an_accepted_heartbeat(
    language, transactional_db, live_server, client, alice, support_tools, settings, tmp_path
):
    runtimes, filename, command = SNIPPETS[language]
    _runtime(*runtimes)
    settings.APPKEEPER_BASE_URL = live_server.url
    app = _draft(alice, support_tools)
    secret = services.app_rotate_secret(app=app, actor=alice)
    client.force_login(alice)
    code = _snippet(client.get(app.get_absolute_url()).content.decode(), language)
    path = tmp_path / filename
    path.write_text(code)

    env = {"PATH": os.environ["PATH"], "APPKEEPER_SECRET": secret, "HOME": str(tmp_path)}
    done = subprocess.run(
        command(str(path)), env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "202" in done.stdout or '"accepted"' in done.stdout, done.stdout
    app.refresh_from_db()
    assert app.last_seen_at is not None
    assert TelemetryDelivery.objects.filter(app=app).count() == 1


def test_a_snippet_with_the_wrong_secret_fails_loudly(
    transactional_db, live_server, client, alice, support_tools, settings, tmp_path
):
    settings.APPKEEPER_BASE_URL = live_server.url
    app = _draft(alice, support_tools)
    services.app_rotate_secret(app=app, actor=alice)
    client.force_login(alice)
    path = tmp_path / "send_heartbeat.py"
    path.write_text(_snippet(client.get(app.get_absolute_url()).content.decode(), "python"))

    env = {"PATH": os.environ["PATH"], "APPKEEPER_SECRET": SECRET}
    done = subprocess.run(
        [sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode != 0 and "401" in done.stderr
    app.refresh_from_db()
    assert app.last_seen_at is None
