"""Hostile input over HTTP: stored and reflected XSS, hostile contracts and Backstage
entities, input limits, and a race for one slug."""

from __future__ import annotations

import html
import json
import threading
import uuid

from tests.attack.report import Report
from tests.attack.world import World

XSS = "stored/reflected XSS"
CONTRACTS = "hostile contracts"
BACKSTAGE = "hostile Backstage entities"
LIMITS = "input limits"
RACE = "slug race"


def _register(world: World, role: str, slug: str, **fields):
    body = {
        "slug": slug,
        "name": fields.pop("name", slug.title()),
        "kind": "integration",
        "team": "support-tools",
        "environment": "staging",
        **fields,
    }
    answer = world.api(role).post("/api/v1/apps/", body)
    if answer.status == 201:
        world.secret(answer.json().get("ingestion_secret", ""))
    return answer


def _openapi(title: str, version) -> dict:
    return {"openapi": "3.1.0", "info": {"title": title, "version": version}, "paths": {}}


def run_xss(world: World, report: Report) -> None:
    tag = uuid.uuid4().hex[:8]
    payloads = {
        "name": f"<script>alert('n{tag}')</script>",
        "description": f"<img src=x onerror=\"alert('d{tag}')\"><svg onload=alert(1)> text",
        "runtime": f"<svg onload=alert('t{tag}')>",
        "docs_url": "javascript:alert(1)",
        "contact": f"\"><script>alert('c{tag}')</script>",
    }
    slug = f"xss-{tag}"
    answer = _register(
        world, "alice", slug, **{k: v for k, v in payloads.items() if k != "docs_url"}
    )
    report.check(
        XSS,
        "an app named with markup is accepted as text",
        answer.status == 201,
        f"answered {answer.status} {answer.text[:200]}",
    )
    bad_url = _register(world, "alice", f"xss-url-{tag}", docs_url=payloads["docs_url"])
    report.check(
        XSS,
        "a javascript: docs URL is refused",
        bad_url.status == 400,
        f"answered {bad_url.status}",
    )
    title = f"<script>alert('k{tag}')</script>"
    upload = world.api("alice").post(
        f"/api/v1/apps/{slug}/contracts/", {"spec": _openapi(title, "1.0.0")}
    )
    report.check(
        XSS,
        "a contract titled with markup is stored",
        upload.status == 201,
        f"answered {upload.status} {upload.text[:200]}",
    )
    summary = f"<script>alert('s{tag}')</script>"
    second = _openapi(title, "1.1.0")
    second["paths"] = {
        "/x": {"get": {"summary": summary, "responses": {"200": {"description": "ok"}}}}
    }
    upload = world.api("alice").post(f"/api/v1/apps/{slug}/contracts/", {"spec": second})
    report.check(
        XSS,
        "a second version with markup in a summary is stored",
        upload.status == 201,
        f"answered {upload.status} {upload.text[:200]}",
    )
    raw = [
        payloads["name"],
        payloads["description"].split(" text")[0],
        payloads["runtime"],
        payloads["contact"],
        title,
        summary,
    ]
    pages = [
        f"/apps/{slug}/",
        "/apps/",
        f"/apps/?q={slug}",
        "/me/apps/",
        "/",
        f"/apps/{slug}/contracts/changelog/",
        f"/apps/{slug}/contracts/1.0.0/",
        f"/apps/{slug}/edit/",
    ]
    for role in ("alice", "pat"):
        for path in pages:
            page = world.session(role).get(path, token=False)
            leaked = [p for p in raw if p in page.text]
            report.check(
                XSS,
                f"{role} {path} renders the payloads escaped",
                page.status == 200 and not leaked,
                f"answered {page.status}, raw: {leaked}",
            )
        detail = world.session(role).get(f"/apps/{slug}/", token=False).text
        report.check(
            XSS,
            f"{role} app page shows the escaped name",
            html.escape(payloads["name"], quote=False) in detail
            or html.escape(payloads["name"]) in detail,
            "escaped name not found",
        )
    reflected = {
        "/apps/?q=": f"<script>alert('q{tag}')</script>",
        "/apps/?team=": f"\"><img src=x onerror=alert('r{tag}')>",
        "/login/?next=": f"\"><script>alert('l{tag}')</script>",
        "/scorecards/?quarter=": f"<script>alert('s{tag}')</script>",
        "/chargeback/?period=": f"<script>alert('p{tag}')</script>",
        "/api/v1/apps/?fields=": f"<script>alert('f{tag}')</script>",
    }
    from urllib.parse import quote

    for prefix, payload in reflected.items():
        client = world.anonymous() if prefix.startswith("/login/") else world.session("alice")
        answer = client.get(prefix + quote(payload), token=False)
        # JSON naming the bad value is no XSS: browsers do not render it (nosniff).
        as_json = answer.header("Content-Type").startswith("application/json") and (
            answer.header("X-Content-Type-Options") == "nosniff"
        )
        report.check(
            XSS,
            f"reflected {prefix}…",
            answer.status < 500 and (as_json or payload not in answer.text),
            f"answered {answer.status} {answer.header('Content-Type')}, payload raw",
        )
    world.xss_slug = slug  # type: ignore[attr-defined]


def run_contracts(world: World, report: Report) -> None:
    app, _ = world.live_with_contract("support-tools")
    api = world.api("alice")
    url = f"/api/v1/apps/{app.slug}/contracts/"
    for label in (
        "1.0/x",
        "1.0?x",
        "1.0#x",
        "..",
        "../../etc",
        "1 0",
        "a\u0000b",
        "x" * 200,
        "",
        "é",
    ):
        answer = api.post(url, {"spec": _openapi("T", "1.0.0"), "version": label})
        report.check(
            CONTRACTS,
            f"requested version label {label[:20]!r} is 400",
            answer.status == 400,
            f"answered {answer.status} {answer.text[:150]}",
        )
    hostile_documents = {
        "timestamp 2024-13-45": "openapi: 3.1.0\ninfo: {title: T, version: 2024-13-45}\n"
        "paths: {}\n",
        "timestamp in a field": "openapi: 3.1.0\ninfo: {title: T, version: '1', x-at: 2024-02-30}\n"
        "paths: {}\n",
        "5,000-digit integer": "openapi: 3.1.0\ninfo: {title: T, version: "
        + "9" * 5000
        + "}\npaths: {}\n",
        "NUL escape": 'openapi: 3.1.0\ninfo: {title: "a\\0b", version: "1"}\npaths: {}\n',
        "python tag": "!!python/object/apply:os.system ['true']\n",
        "alias bomb": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
        "deep nesting": "[" * 2000 + "]" * 2000,
        "not a mapping": "- just\n- a list\n",
        "binary": "\x01\x02\x03",
    }
    for name, text in hostile_documents.items():
        answer = api.post(url, {"spec": text})
        report.check(
            CONTRACTS,
            f"{name} is refused with 400",
            answer.status == 400,
            f"answered {answer.status} {answer.text[:150]}",
        )
        raw = api.post(url, text.encode("utf-8"), content_type="application/yaml")
        report.check(
            CONTRACTS,
            f"{name} as a raw YAML body is 4xx",
            400 <= raw.status < 500,
            f"answered {raw.status}",
        )
    for label in ("1.0/../x y?#", "  ", "<b>v</b>"):
        answer = api.post(url, {"spec": _openapi(f"T {label}", label)})
        stored = answer.json().get("version", "") if answer.status == 201 else ""
        report.check(
            CONTRACTS,
            f"document version {label!r} stored URL-safe",
            answer.status in (201, 400) and "/" not in stored and " " not in stored,
            f"answered {answer.status} {answer.text[:150]}",
        )
        if stored:
            docs = world.session("alice").get(f"/apps/{app.slug}/contracts/{stored}/", token=False)
            report.check(
                CONTRACTS,
                f"docs page of version {stored!r} is 200",
                docs.status == 200,
                f"answered {docs.status}",
            )
    for role in ("alice", "carol", "pat"):
        page = world.session(role).get(f"/apps/{app.slug}/", token=False)
        report.check(
            CONTRACTS,
            f"app page still 200 for {role}",
            page.status == 200,
            f"answered {page.status}",
        )
    check = api.post("/api/v1/contracts/check/", {"spec": hostile_documents["alias bomb"]})
    report.check(
        CONTRACTS,
        "contracts/check refuses the alias bomb",
        check.status == 400,
        f"answered {check.status}",
    )


def run_backstage(world: World, report: Report) -> None:
    api = world.api("alice")
    component = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component"}
    shapes = {
        "metadata a list": {**component, "metadata": ["x"], "spec": {}},
        "metadata a string": {**component, "metadata": "x", "spec": {}},
        "spec a number": {**component, "metadata": {"name": "bs-x"}, "spec": 7},
        "annotations a list": {
            **component,
            "metadata": {"name": "bs-x", "annotations": ["a"]},
            "spec": {"owner": "support-tools", "lifecycle": "experimental"},
        },
        "tags a mapping": {
            **component,
            "metadata": {"name": "bs-x", "tags": {"a": 1}},
            "spec": {"owner": "support-tools", "lifecycle": "experimental"},
        },
        "links a string": {
            **component,
            "metadata": {"name": "bs-x", "links": "http://x"},
            "spec": {"owner": "support-tools", "lifecycle": "experimental"},
        },
        "dependsOn a string": {
            **component,
            "metadata": {"name": "bs-x"},
            "spec": {
                "owner": "support-tools",
                "lifecycle": "experimental",
                "dependsOn": "component:x",
            },
        },
        "providesApis a mapping": {
            **component,
            "metadata": {"name": "bs-x"},
            "spec": {
                "owner": "support-tools",
                "lifecycle": "experimental",
                "providesApis": {"a": "b"},
            },
        },
        "no metadata": {**component, "spec": {}},
        "a list document": ["not", "an", "entity"],
        "a scalar document": "just text",
        "name with NUL": {
            **component,
            "metadata": {"name": "a\u0000b"},
            "spec": {"owner": "support-tools", "lifecycle": "experimental"},
        },
        "name with a newline": {
            **component,
            "metadata": {"name": "a\nb"},
            "spec": {"owner": "support-tools", "lifecycle": "experimental"},
        },
        "300-char name": {
            **component,
            "metadata": {"name": "a" * 300},
            "spec": {"owner": "support-tools", "lifecycle": "experimental"},
        },
    }
    for name, entity in shapes.items():
        text = json.dumps(entity)  # JSON is YAML
        answer = api.post("/api/v1/apps/import/", text, content_type="application/yaml")
        report.check(
            BACKSTAGE,
            f"{name} is 400",
            answer.status == 400,
            f"answered {answer.status} {answer.text[:150]}",
        )
        wrapped = api.post("/api/v1/apps/import/", {"yaml": text})
        report.check(
            BACKSTAGE,
            f"{name} as {{yaml: ...}} is 400",
            wrapped.status == 400,
            f"answered {wrapped.status}",
        )
    for name, text in {
        "python tag": "!!python/object/apply:os.system ['true']",
        "bad timestamp": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: "
        "{name: bs-t, x: 2024-13-45}\nspec: {owner: support-tools, lifecycle: experimental}\n",
        "tab indentation": "kind: Component\n\tmetadata: x\n",
        "not UTF-8": "kind: \xff\xfe",
    }.items():
        answer = api.post(
            "/api/v1/apps/import/",
            text.encode("utf-8", "surrogateescape") if name != "not UTF-8" else b"kind: \xff\xfe",
            content_type="application/yaml",
        )
        report.check(
            BACKSTAGE,
            f"{name} is 400",
            answer.status == 400,
            f"answered {answer.status} {answer.text[:150]}",
        )


def run_limits(world: World, report: Report) -> None:
    api = world.api("alice")
    tag = uuid.uuid4().hex[:6]
    cases = {
        "newline in a name": {"name": "Two\nlines"},
        "tab in a name": {"name": "Tab\there"},
        "5,001-char description": {"description": "x" * 5001},
        "NUL in a name": {"name": "a\u0000b"},
        "lone surrogate in a name": None,
        "lone surrogate as the kind": None,
        "a 121-char name": {"name": "n" * 121},
        "slug with a slash": {"slug": "a/b"},
        "slug with a NUL": {"slug": "a\u0000b"},
        "huge sla_p95_ms": {"sla_p95_ms": 10**30},
        "tags not a list": {"tags": "x"},
    }
    for name, fields in cases.items():
        if fields is None:
            # The kind's "not a valid choice" message quotes the value back.
            name_value, kind = (
                (b"\\ud800", b"integration") if "name" in name else (b"Lonely", b"\\ud800")
            )
            body = (
                b'{"slug": "sur-%s", "name": "%s", "kind": "%s", '
                b'"team": "support-tools", "environment": "staging"}'
                % (tag.encode(), name_value, kind)
            )
            answer = api.post("/api/v1/apps/", body, content_type="application/json")
        else:
            fields = {"slug": f"lim-{tag}-{len(name)}", **fields}
            answer = _register(world, "alice", fields.pop("slug"), **fields)
        report.check(
            LIMITS,
            f"{name} is 400",
            answer.status == 400,
            f"answered {answer.status} {answer.text[:150]}",
        )
    live, _ = world.live_with_contract("support-tools")
    patch = api.request("PATCH", f"/api/v1/apps/{live.slug}/", {"description": "y" * 5001})
    report.check(
        LIMITS,
        "PATCH with a 5,001-char description is 400",
        patch.status == 400,
        f"answered {patch.status}",
    )
    deep = b"[" * 100 + b"]" * 100
    answer = api.post("/api/v1/apps/", deep, content_type="application/json")
    report.check(
        LIMITS, "JSON nested 100 deep is 400", answer.status == 400, f"answered {answer.status}"
    )
    size = 12 * 1024 * 1024
    for path in (
        "/api/v1/apps/",
        "/api/v1/telemetry/",
        f"/api/v1/apps/{live.slug}/contracts/",
        "/api/v1/apps/import/",
    ):
        answer = api.declare(path, size)
        report.check(
            LIMITS,
            f"a declared 12 MB body to {path} is 413 before it is read",
            answer.status == 413,
            f"answered {answer.status}",
        )
    page = world.session("alice").declare("/apps/new/", size, "application/x-www-form-urlencoded")
    report.check(
        LIMITS, "a declared 12 MB form post is 413", page.status == 413, f"answered {page.status}"
    )


def run_race(world: World, report: Report) -> None:
    slug = f"race-{uuid.uuid4().hex[:8]}"
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def register() -> None:
        barrier.wait()
        statuses.append(_register(world, "alice", slug).status)

    threads = [threading.Thread(target=register) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.check(
        RACE,
        "exactly one of 8 parallel registrations is 201",
        statuses.count(201) == 1,
        f"statuses {sorted(statuses)}",
    )
    report.check(
        RACE, "the other 7 are 400", statuses.count(400) == 7, f"statuses {sorted(statuses)}"
    )
    count = world.api("pat").get(f"/api/v1/apps/?q={slug}&fields=slug").json()
    report.check(RACE, "one app with that slug exists", count.get("count") == 1, str(count)[:100])
