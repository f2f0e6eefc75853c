"""Sessions and the edges of the site: CSRF, the sign-in limiter, signed telemetry,
security headers, and secrets kept out of the server's log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from lifecycle.models import TelemetryDelivery
from tests.attack.report import Report
from tests.attack.world import PASSWORD, World

CSRF = "CSRF"
SIGN_IN = "sign-in limiter"
TELEMETRY = "telemetry"
HEADERS = "security headers"
LOGS = "secrets never in logs"

REDIRECTS = "open redirects"
WRONG_PASSWORD = f"Wrong-{uuid.uuid4().hex[:10]}"  # distinctive, so the log grep means something


def run_csrf(world: World, report: Report) -> None:
    live, _ = world.live_with_contract("support-tools")
    case = world.sunset_case(contested=False)
    posts = {
        "/apps/new/": {"slug": "csrf-app", "name": "Csrf", "team": "support-tools"},
        f"/apps/{live.slug}/edit/": {"name": "Csrf"},
        f"/apps/{live.slug}/renew/": {"justification": "x" * 30},
        f"/apps/{live.slug}/rotate-secret/": {},
        f"/apps/{live.slug}/contracts/upload/": {"content": "{}"},
        f"/sunset-cases/{case.pk}/respond/": {"response": "accept"},
        "/me/notifications/": {},
        "/logout/": {},
    }
    client = world.session("pat")
    for path, fields in posts.items():
        for variant, kwargs in {
            "no token": {"with_token": False},
            "a wrong token": {"with_token": False},
            "a foreign Referer": {"headers": {"Referer": "https://evil.example/"}},
            "a foreign Origin": {"headers": {"Origin": "https://evil.example"}},
        }.items():
            body = dict(fields)
            if variant == "a wrong token":
                body["csrfmiddlewaretoken"] = "x" * 64
            answer = client.form_post(path, body, **kwargs)
            report.check(
                CSRF,
                f"POST {path} with {variant} is 403",
                answer.status == 403,
                f"answered {answer.status}",
            )
    api_post = client.post("/api/v1/apps/", {"slug": "csrf-api"}, token=False)
    report.check(
        CSRF,
        "session-authenticated API POST without X-CSRFToken is 403",
        api_post.status == 403,
        f"answered {api_post.status}",
    )
    page = client.get("/", token=False)
    report.check(
        CSRF,
        "the session still works after the refused posts",
        page.status == 200,
        f"answered {page.status}",
    )
    anonymous = world.anonymous()
    login = anonymous.post("/login/", {"username": "alice", "password": PASSWORD}, form=True)
    report.check(
        CSRF, "sign-in without a CSRF token is 403", login.status == 403, f"answered {login.status}"
    )


def run_redirects(world: World, report: Report) -> None:
    """Signing in with a hostile ``next`` must land on this site, never elsewhere."""
    from urllib.parse import quote, urlsplit

    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "\t//evil.example/",
    ):
        client = world.anonymous()
        client.get(f"/login/?next={quote(target)}", token=False)  # the CSRF cookie
        answer = client.form_post(
            f"/login/?next={quote(target)}",
            {"username": "carol", "password": PASSWORD, "next": target},
        )
        location = answer.header("Location")
        parts = urlsplit(location)
        local = not parts.scheme and not parts.netloc and location.startswith("/")
        local = local and not location.startswith(("//", "/\\"))
        report.check(
            REDIRECTS,
            f"sign-in with next={target!r} stays on the site",
            answer.status == 302 and local,
            f"answered {answer.status} to {location!r}",
        )


def _sign_in_fail(world: World, username: str, headers: dict | None = None):
    client = world.anonymous()
    client.get("/login/", token=False)  # the CSRF cookie, as a browser gets it
    return client.form_post(
        "/login/", {"username": username, "password": WRONG_PASSWORD}, headers=headers or {}
    )


def run_sign_in(world: World, report: Report, limit: int, per_ip: int) -> None:
    # Parallel guesses: a count read before any of them is recorded must not let them all in.
    with ThreadPoolExecutor(max_workers=limit + 1) as pool:
        raced = list(pool.map(lambda _: _sign_in_fail(world, "racer").status, range(limit + 1)))
    report.check(
        SIGN_IN,
        f"{limit + 1} parallel failures for one account: at most {limit} checked",
        raced.count(200) <= limit and raced.count(429) >= 1,
        f"statuses {sorted(raced)}",
    )
    # bob: fail with spelling variants up to the limit; then even his real password is 429.
    variants = ["bob", "BOB", "\uff42\uff4f\uff42", " bob ", "Bob"]
    statuses = [_sign_in_fail(world, variants[i % len(variants)]).status for i in range(limit)]
    report.check(
        SIGN_IN,
        f"{limit} failures (NFKC/case variants) are answered 200",
        statuses == [200] * limit,
        f"statuses {statuses}",
    )
    client = world.anonymous()
    client.get("/login/", token=False)
    right = client.form_post("/login/", {"username": "bob", "password": PASSWORD})
    report.check(
        SIGN_IN, "then bob's right password is 429", right.status == 429, f"answered {right.status}"
    )
    for variant in variants:
        answer = _sign_in_fail(world, variant)
        report.check(
            SIGN_IN, f"then {variant!r} is 429", answer.status == 429, f"answered {answer.status}"
        )
    for spoof in ("203.0.113.7", "203.0.113.8, 198.51.100.1", "127.0.0.2"):
        answer = _sign_in_fail(world, "bob", {"X-Forwarded-For": spoof})
        report.check(
            SIGN_IN,
            f"X-Forwarded-For: {spoof} does not reset bob's count",
            answer.status == 429,
            f"answered {answer.status}",
        )
        real = world.anonymous()
        real.get("/login/", token=False)
        answer = real.form_post(
            "/login/",
            {"username": "bob", "password": PASSWORD},
            headers={"X-Real-IP": spoof, "X-Forwarded-For": spoof},
        )
        report.check(
            SIGN_IN,
            f"nor lets bob's right password in via {spoof}",
            answer.status == 429,
            f"answered {answer.status}",
        )
    # Per IP: many usernames, each under its own limit, until the address is refused.
    with ThreadPoolExecutor(max_workers=3) as pool:  # each failure costs a password hash
        seen = list(
            pool.map(
                lambda i: (
                    _sign_in_fail(
                        world, f"spray{i}", {"X-Forwarded-For": f"198.51.100.{i % 250}"}
                    ).status
                ),
                range(per_ip + 3),
            )
        )
    first = seen.index(429) if 429 in seen else None
    report.check(
        SIGN_IN,
        f"password spraying is 429 after {per_ip} failures per IP",
        first is not None and first <= per_ip,
        f"first 429 at attempt {first}",
    )
    client = world.anonymous()
    client.get("/login/", token=False)
    alice = client.form_post("/login/", {"username": "alice", "password": PASSWORD})
    report.check(
        SIGN_IN,
        "then even alice's right password is 429 from that address",
        alice.status == 429,
        f"answered {alice.status}",
    )
    admin = world.anonymous()
    admin.get("/admin/login/", token=False)
    answer = admin.form_post("/admin/login/", {"username": "pat", "password": WRONG_PASSWORD})
    report.check(
        SIGN_IN,
        "the admin sign-in shares the per-IP limit",
        answer.status == 429,
        f"answered {answer.status}",
    )


def _sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


def run_telemetry(world: World, report: Report, throttle: int) -> None:
    live, _ = world.live_with_contract("support-tools")
    rotated = world.api("alice").post(f"/api/v1/apps/{live.slug}/rotate-secret/", {})
    secret = rotated.json().get("secret", "") if rotated.status == 200 else ""
    report.check(
        TELEMETRY, "the owner rotates the secret", bool(secret), f"answered {rotated.status}"
    )
    world.secret(secret)
    api = world.anonymous()
    url = "/api/v1/telemetry/"
    body = json.dumps({"app": live.slug, "reports": []}).encode()
    now = int(time.time())

    def send(headers: dict, payload: bytes = body):
        return api.post(url, payload, content_type="application/json", headers=headers, token=False)

    good = _sign(secret, f"msg_{uuid.uuid4().hex}", now, body)
    cases = {
        "no signature": {k: v for k, v in good.items() if k != "webhook-signature"},
        "a wrong signature": {**good, "webhook-signature": "v1," + "A" * 44},
        "another app's secret": _sign(
            "whsec_" + base64.b64encode(b"z" * 32).decode(), good["webhook-id"], now, body
        ),
        "a timestamp 10 minutes old": _sign(secret, "msg_old", now - 600, body),
        "a timestamp 10 minutes ahead": _sign(secret, "msg_new", now + 600, body),
        "a non-numeric timestamp": {**good, "webhook-timestamp": "yesterday"},
        "the signature of another body": _sign(secret, "msg_other", now, b"{}"),
    }
    for name, headers in cases.items():
        answer = send(headers)
        report.check(TELEMETRY, f"{name} is 401", answer.status == 401, f"answered {answer.status}")
    first = send(good)
    report.check(
        TELEMETRY,
        "a signed heartbeat is 202",
        first.status == 202,
        f"answered {first.status} {first.text[:150]}",
    )
    replay = send(good)
    report.check(
        TELEMETRY,
        "a replay gets the same answer",
        (replay.status, replay.text) == (first.status, first.text),
        f"answered {replay.status}",
    )
    stored = TelemetryDelivery.objects.filter(app=live, webhook_id=good["webhook-id"]).count()
    report.check(TELEMETRY, "the replayed delivery is stored once", stored == 1, f"{stored} rows")
    other = json.dumps({"app": live.slug, "reports": [], "x": 1}).encode()
    reused = send(_sign(secret, good["webhook-id"], now, other), other)
    report.check(
        TELEMETRY,
        "the same webhook-id with another body is 422",
        reused.status == 422,
        f"answered {reused.status}",
    )
    # The throttle counts per client address; a spoofed X-Forwarded-For is not an address.
    statuses = [
        send({**good, "X-Forwarded-For": f"192.0.2.{i}"}).status for i in range(throttle + 3)
    ]
    report.check(
        TELEMETRY,
        f"the throttle ({throttle}/min) holds against X-Forwarded-For",
        429 in statuses,
        f"statuses {sorted(set(statuses))}",
    )


def run_headers(world: World, report: Report) -> None:
    pages = {
        "page /": world.session("alice").get("/", token=False),
        "page /login/": world.anonymous().get("/login/", token=False),
        "API /api/v1/apps/": world.api("alice").get("/api/v1/apps/?page_size=1"),
        "404 page": world.session("alice").get("/no-such-page/", token=False),
    }
    for name, answer in pages.items():
        hsts = answer.header("Strict-Transport-Security")
        max_age = int(hsts.split("max-age=")[1].split(";")[0]) if "max-age=" in hsts else 0
        report.check(HEADERS, f"{name}: HSTS of a year or more", max_age >= 31536000, hsts)
        report.check(
            HEADERS,
            f"{name}: X-Content-Type-Options nosniff",
            answer.header("X-Content-Type-Options") == "nosniff",
            answer.header("X-Content-Type-Options"),
        )
        report.check(
            HEADERS,
            f"{name}: Referrer-Policy set",
            answer.header("Referrer-Policy")
            in ("same-origin", "strict-origin", "no-referrer", "strict-origin-when-cross-origin"),
            answer.header("Referrer-Policy"),
        )
        report.check(
            HEADERS,
            f"{name}: X-Frame-Options DENY",
            answer.header("X-Frame-Options") == "DENY",
            answer.header("X-Frame-Options"),
        )
        csp = answer.header("Content-Security-Policy")
        directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
        script = directives.get("script-src", directives.get("default-src", ""))
        report.check(
            HEADERS,
            f"{name}: Content-Security-Policy without 'unsafe-inline' scripts",
            bool(csp) and bool(script) and "'unsafe-inline'" not in script,
            csp or "missing",
        )
        report.check(
            HEADERS,
            f"{name}: Permissions-Policy set",
            bool(answer.header("Permissions-Policy")),
            "missing",
        )
    login = world.anonymous()
    login.get("/login/", token=False)
    signed = login.form_post("/login/", {"username": "carol", "password": PASSWORD})
    cookies = " | ".join(signed.headers.get_all("Set-Cookie") or [])
    report.check(
        HEADERS,
        "session cookie is Secure and HttpOnly",
        "sessionid=" in cookies and "Secure" in cookies and "HttpOnly" in cookies,
        cookies[:200],
    )
    report.check(
        HEADERS,
        "the sign-in page's CSRF cookie is Secure",
        any(
            "csrftoken=" in c and "Secure" in c
            for c in (
                world.anonymous().get("/login/", token=False).headers.get_all("Set-Cookie") or []
            )
        ),
        "not Secure",
    )
    spoofed = world.anonymous().get("/healthz", token=False, headers={"Host": "evil.example"})
    report.check(
        HEADERS,
        "an unknown Host header is 400",
        spoofed.status == 400,
        f"answered {spoofed.status}",
    )


def run_logs(world: World, report: Report) -> None:
    try:
        with open(world.log_path, encoding="utf-8", errors="replace") as handle:
            log = handle.read()
    except OSError as exc:
        report.check(LOGS, "the server log can be read", False, repr(exc))
        return
    report.check(LOGS, "the server log holds the requests", "/api/v1/" in log, "empty log")
    for secret, kind in sorted(world.secrets.items()):
        if len(secret) < 8:
            continue
        report.check(
            LOGS, f"{kind} {secret[:6]}… never logged", secret not in log, "in the gunicorn log"
        )
    report.check(
        LOGS,
        "the wrong passwords tried are never logged",
        WRONG_PASSWORD not in log,
        "found in the gunicorn log",
    )
    report.check(
        LOGS,
        "the demo password is never logged",
        f'"{PASSWORD}"' not in log and f"password={PASSWORD}" not in log,
        "found in the gunicorn log",
    )
