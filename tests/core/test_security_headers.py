"""Every response carries the Content-Security-Policy and the Permissions-Policy, and no
template of ours needs them relaxed (no inline script, handler attribute or style)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from core.headers import SecurityHeadersMiddleware, render_csp, render_permissions_policy

ROOT = Path(__file__).resolve().parents[2]
STRICT_SCRIPT = "script-src 'self';"


def assert_policies(response) -> str:
    csp = response["Content-Security-Policy"]
    assert STRICT_SCRIPT in csp and "'unsafe-inline'" not in csp.split("style-src-attr")[0]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "base-uri 'self'" in csp and "form-action 'self'" in csp
    assert "style-src-elem 'self'" in csp
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in response["Permissions-Policy"]
    return csp


@pytest.mark.django_db
def test_html_pages_carry_both_policies(client, alice):
    assert_policies(client.get("/login/"))
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 200
    assert "style-src-attr 'none'" in assert_policies(response)


@pytest.mark.django_db
def test_api_json_and_errors_carry_both_policies(api_as, alice, client):
    response = api_as(alice).get("/api/v1/apps/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert_policies(response)

    missing = api_as(alice).get("/api/v1/no-such-thing/")  # answered by ApiJsonErrorsMiddleware
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    assert_policies(missing)

    assert_policies(client.get("/no-such-page/"))  # the designed HTML 404
    too_big = client.post(
        "/api/v1/apps/", data=b"{}", content_type="application/json", CONTENT_LENGTH="99999999999"
    )
    assert too_big.status_code == 413  # answered before any view
    assert_policies(too_big)
    assert_policies(client.get("/healthz"))


@pytest.mark.django_db
def test_static_files_served_by_whitenoise_carry_both_policies(settings):
    # Production serves static files from whitenoise, inside this middleware.
    security = settings.MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: security + 1],
        "whitenoise.middleware.WhiteNoiseMiddleware",
        *settings.MIDDLEWARE[security + 1 :],
    ]
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/css/app.css")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    assert_policies(response)


def test_third_party_uis_get_only_the_documented_relaxation():
    docs = Client().get("/api/docs/")
    assert docs.status_code == 200
    # The split view: the init script is a separate same-origin request, not inline.
    assert "<script>" not in docs.content.decode() and "<style>" not in docs.content.decode()
    assert "style-src-attr 'none'" in assert_policies(docs)
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()

    browsable = Client().get("/api/v1/apps/", HTTP_ACCEPT="text/html")
    assert "style-src-attr 'unsafe-inline'" in assert_policies(browsable)


@override_settings(
    APPKEEPER_CSP={"default-src": ["'self'"], "style-src-attr": ["'none'"]},
    APPKEEPER_CSP_PATH_OVERRIDES={
        "/a/": {"style-src-attr": ["'unsafe-inline'"]},
        "/a/b/": {"img-src": ["data:"]},
    },
    APPKEEPER_PERMISSIONS_POLICY={"camera": [], "fullscreen": ["self"]},
)
def test_longest_prefix_wins_and_a_view_may_set_its_own_policy():
    def view(request):
        response = HttpResponse("ok")
        if request.path == "/own/":
            response["Content-Security-Policy"] = "default-src 'none'"
        return response

    middleware = SecurityHeadersMiddleware(view)
    factory = RequestFactory()
    base = "default-src 'self'; style-src-attr 'none'"
    assert middleware(factory.get("/x/"))["Content-Security-Policy"] == base
    assert middleware(factory.get("/a/"))["Content-Security-Policy"] == (
        "default-src 'self'; style-src-attr 'unsafe-inline'"
    )
    assert middleware(factory.get("/a/b/c"))["Content-Security-Policy"] == (
        "default-src 'self'; style-src-attr 'none'; img-src data:"
    )
    own = middleware(factory.get("/own/"))
    assert own["Content-Security-Policy"] == "default-src 'none'"
    assert own["Permissions-Policy"] == "camera=(), fullscreen=(self)"


def test_policies_render_in_header_syntax():
    assert render_csp({"upgrade-insecure-requests": [], "img-src": ["'self'", "data:"]}) == (
        "upgrade-insecure-requests; img-src 'self' data:"
    )
    assert render_permissions_policy({"usb": [], "fullscreen": ["self"]}) == (
        "usb=(), fullscreen=(self)"
    )


# What the policy would block: a <script> element with code in it (an external one, src=
# and nothing between the tags, is fine), an on*= handler attribute, a javascript: URL, a
# <style> element and a style attribute.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", re.IGNORECASE)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
COMMENT = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.DOTALL)


def template_texts():
    for path in sorted((ROOT / "templates").rglob("*.html")):
        yield path.relative_to(ROOT), COMMENT.sub("", path.read_text())


@pytest.mark.parametrize(
    ("rule", "pattern"),
    [
        ("inline <script> with code", INLINE_SCRIPT),
        ("on*= event handler attribute", HANDLER),
        ("javascript: URL", JAVASCRIPT_URL),
        ("inline <style> element", STYLE_ELEMENT),
        ("style= attribute", STYLE_ATTRIBUTE),
    ],
)
def test_no_template_needs_the_policy_relaxed(rule, pattern):
    offenders = [
        f"{path}: {match.group(0)[:80]!r}"
        for path, text in template_texts()
        for match in pattern.finditer(text)
    ]
    assert offenders == [], f"{rule} (move it to static/js or static/css):\n" + "\n".join(offenders)


def test_the_checks_recognise_what_they_forbid():
    # The patterns themselves: each must catch its case and pass the allowed form.
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">\n  go()</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/js/app.js" defer></script>')
    assert HANDLER.search('<input onfocus="this.select()">')
    assert HANDLER.search('<button class="x"\n  onclick="go()">')
    assert not HANDLER.search('<input data-select-on-focus name="only">')
    assert JAVASCRIPT_URL.search('<a href="javascript:void(0)">')
    assert STYLE_ELEMENT.search("<style>.a{}</style>") and not STYLE_ELEMENT.search("<styles>")
    assert STYLE_ATTRIBUTE.search('<span class="s" style="color:red">')
    assert not STYLE_ATTRIBUTE.search('<rect fill="red" data-style="x">')
