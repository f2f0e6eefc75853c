"""A production app's first heartbeat, seen in a real Chromium without reloading the page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from catalog.choices import AppState
from lifecycle import services
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.e2e


def _send_heartbeat(url: str, slug: str, secret: str) -> int:
    body = f'{{"app":"{slug}","reports":[]}}'.encode()
    msg_id, timestamp = "msg_e2e_first", str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    request = urllib.request.Request(
        f"{url}/api/v1/telemetry/",
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (live server)
        return response.status


def test_the_status_flips_to_a_tick_when_the_first_heartbeat_arrives(
    page, live_server, cast, sign_in, settings
):
    settings.APPKEEPER_BASE_URL = live_server.url
    alice = cast["users"]["alice"]
    app = MicroAppFactory(
        name="Ticket Router",
        slug="ticket-router",
        team=cast["teams"]["support-tools"],
        owner=alice,
        environment="production",
        state=AppState.DRAFT,
    )
    secret = services.app_rotate_secret(app=app, actor=alice)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/apps/ticket-router/")

    # The checklist's heartbeat item leads to the panel.
    page.locator('[data-check="heartbeat"]').get_by_role(
        "link", name="How to send a heartbeat"
    ).click()
    expect(page).to_have_url(f"{live_server.url}/apps/ticket-router/#panel-telemetry")
    status = page.locator("#telemetry-status")
    expect(status).to_contain_text("Waiting for the first heartbeat")

    # Tabs: one language at a time; its Copy button copies exactly the snippet.
    node_tab = page.get_by_role("tab", name="Node")
    node_tab.click()
    expect(node_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#snippet-node")).to_be_visible()
    expect(page.locator("#snippet-python")).to_be_hidden()
    page.locator("#snippet-node").get_by_role("button", name="Copy").click()
    expect(page.locator("#snippet-node").get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#snippet-node-code").text_content()
    assert "ticket-router" in copied and live_server.url in copied

    assert _send_heartbeat(live_server.url, "ticket-router", secret) == 202

    # The poll (every 5 s) picks it up; nothing reloads the page.
    page.evaluate("window.__not_reloaded = true")
    expect(status).to_contain_text("First heartbeat received", timeout=15_000)
    expect(status.locator(".checklist__tick")).to_have_text("✓")
    assert page.evaluate("window.__not_reloaded") is True
    # The answer with the tick carries no trigger: the polling has stopped.
    assert status.get_attribute("hx-trigger") is None


def test_the_one_time_secret_page_shows_code_as_a_block_and_copies_the_secret(
    page, live_server, cast, sign_in
):
    alice = cast["users"]["alice"]
    app = MicroAppFactory(
        name="Visit Logger", slug="visit-logger", team=cast["teams"]["support-tools"], owner=alice
    )
    services.app_rotate_secret(app=app, actor=alice)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/apps/visit-logger/")
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_role("heading", name="New ingestion secret")).to_be_visible()

    # A code sample is one block, not a chip per line.
    code = page.locator("#snippet-once-code")
    style = code.evaluate(
        "c => { const s = getComputedStyle(c);"
        " return [s.display, s.borderTopWidth, s.whiteSpace]; }"
    )
    assert style == ["block", "0px", "pre"]
    assert "visit-logger" in code.text_content()

    page.get_by_role("button", name="Copy the secret").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    secret = page.get_by_label("Secret").input_value()
    assert secret.startswith("whsec_") and page.evaluate("navigator.clipboard.readText()") == secret
