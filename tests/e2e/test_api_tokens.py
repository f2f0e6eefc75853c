"""The "API tokens" page in a real Chromium: issue a token, copy it, use it, revoke it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from core.models import ApiToken

pytestmark = pytest.mark.e2e


def api_status(live_server, value: str) -> int:
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/teams/", headers={"Authorization": f"Token {value}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_alice_issues_a_token_uses_it_and_revokes_it(page, live_server, cast, sign_in):
    sign_in(page, "alice")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", level=1)).to_be_visible()

    # A name is required: the error is on the field, nothing is issued.
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#id_name_errors")).to_contain_text("This field is required.")
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Name").fill("deploy pipeline")
    page.get_by_label("Expires after").select_option("30")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    value = page.locator("#new-token").inner_text().strip()
    assert value.startswith("apk_")

    # The copy button puts the value on the clipboard and says so.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == value
    assert api_status(live_server, value) == 200

    # Leaving the page drops the value for good; the list knows the token by its prefix.
    page.get_by_role("link", name="I have stored it").click()
    expect(page.locator("#new-token")).to_have_count(0)
    row = page.get_by_role("row", name="deploy pipeline")
    expect(row).to_contain_text(value[:12])
    expect(row).to_contain_text("Active")

    # Revoking asks first; dismissing keeps the token.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Revoke deploy pipeline").click()
    expect(row).to_contain_text("Active")
    assert ApiToken.objects.get(name="deploy pipeline").revoked_at is None

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke deploy pipeline").click()
    expect(page.get_by_text("“deploy pipeline” is revoked")).to_be_visible()
    expect(page.get_by_role("row", name="deploy pipeline")).to_contain_text("Revoked")
    assert api_status(live_server, value) == 401


def test_the_page_fits_a_phone(page, live_server, cast, sign_in):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/me/tokens/")
    page.get_by_label("Name").fill("phone")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_be_visible()
    # Nothing is wider than the screen: the page never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#new-token").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
