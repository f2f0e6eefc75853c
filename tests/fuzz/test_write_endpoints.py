"""Arbitrary bytes, JSON and YAML posted to every write endpoint, as every kind of caller:
never a 5xx, and nothing half-written.

Every example runs inside a savepoint that is rolled back, against the demo fleet
(``load_demo``), so each one starts from the same rows. After the request:

- the status is below 500 (the test client re-raises a view's exception, so a crash fails
  the example with its traceback);
- a 4xx left every row of every model exactly as it was (``REFUSAL_MAY_CHANGE`` names the
  only exception);
- any other answer left whole writes: every app whose row, contracts, reviews, renewals,
  sunset cases, regions or dependencies changed has a new audit event, and an accepted
  telemetry delivery moved its app's ``last_seen_at``.

The endpoints come from ``tests.fuzz.targets``: a new API operation or form route is fuzzed
without touching this file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import time
from urllib.parse import quote_from_bytes

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.models import Contract, MicroApp, Region, Review, Team
from lifecycle import telemetry
from lifecycle.models import SunsetCase
from lifecycle.services import app_rotate_secret
from tests.fuzz import strategies as fz
from tests.fuzz.conftest import fuzz_profile
from tests.fuzz.targets import Target, all_targets, api_targets, form_fields, page_targets

pytestmark = pytest.mark.django_db

ROLES = ("alice", "carol", "pat", "fin", "anonymous")
# Session rows carry flash messages ("the decision needs a comment") that a refused form
# post stores for the page it redirects to; they are the visitor's, not catalog data.
REFUSAL_MAY_CHANGE = {"sessions.session"}
# Columns of an app that change without an audit event: bookkeeping, not a decision.
UNAUDITED_APP_FIELDS = {"updated_at", "last_seen_at"}
# Tables whose rows belong to one app, and the column naming it: a change is audited.
AUDITED = {
    "catalog.microapp": "pk",
    "catalog.contract": "app_id",
    "catalog.review": "app_id",
    "lifecycle.renewal": "app_id",
    "lifecycle.sunsetcase": "app_id",
    "catalog.microapp_regions": "microapp_id",
    "catalog.microapp_co_owners": "microapp_id",
    "catalog.dependency": "from_microapp_id",  # the links and how each is used
    "catalog.contractacknowledgement": "dependent_id",
}


# --- the seeded fleet ----------------------------------------------------------------------


class Fleet:
    def __init__(self) -> None:
        call_command("load_demo", usage_days=3, stdout=io.StringIO())
        users = {u.username: u for u in get_user_model().objects.all()}
        self.clients = {"anonymous": Client()}
        for role in ROLES[:-1]:
            self.clients[role] = Client()
            self.clients[role].force_login(users[role])
        self.app_slugs = sorted(MicroApp.objects.values_list("slug", flat=True))
        self.team_slugs = sorted(Team.objects.values_list("slug", flat=True))
        self.region_codes = sorted(Region.objects.values_list("code", flat=True))
        self.review_ids = sorted(Review.objects.values_list("pk", flat=True))
        self.case_ids = sorted(SunsetCase.objects.values_list("pk", flat=True))
        self.versions = sorted(set(Contract.objects.values_list("version", flat=True)))
        live = MicroApp.objects.filter(state="active").order_by("slug").first()
        assert live is not None
        self.telemetry_slug = live.slug
        self.telemetry_secret = app_rotate_secret(app=live, actor=live.owner)
        telemetry.clear_region_cache()

    def parameter(self, target: Target, name: str) -> st.SearchStrategy[str]:
        route = target.route
        if name == "slug" and "teams/" in route:
            choices = [*self.team_slugs, "no-such-team"]
        elif name == "slug":
            choices = [*self.app_slugs, "no-such-app"]
        elif name == "code":
            choices = [*self.region_codes, "mars-north"]
        elif name == "version":
            choices = [*self.versions, "9.9.9"]
        elif name in ("id", "pk") and "review" in route:
            choices = [str(pk) for pk in self.review_ids] + ["999999"]
        elif name in ("id", "pk") and "sunset" in route:
            choices = [str(pk) for pk in self.case_ids] + ["999999"]
        else:
            # A parameter of an endpoint newer than this table (an import job, a token):
            # ids that may exist and one that does not, so the endpoint is fuzzed anyway.
            choices = ["1", "2", "3", "999999", "not-an-id"]
        return st.sampled_from(choices)


def snapshot() -> dict[str, dict]:
    """Every row of every model (with many-to-many tables), by primary key."""
    return {
        model._meta.label_lower: {
            row["pk"]: row for row in model._base_manager.values("pk", *_columns(model))
        }
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy
    }


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if not f.primary_key]


def changed_models(before: dict, after: dict) -> list[str]:
    return sorted(
        label
        for label in before
        if label not in REFUSAL_MAY_CHANGE and before[label] != after[label]
    )


def assert_whole(before: dict, after: dict) -> None:
    """Every app whose audited rows changed got an audit event in the same write."""
    touched: set[int] = set()
    for label, column in AUDITED.items():
        old, new = before[label], after[label]
        for pk in old.keys() | new.keys():
            a, b = old.get(pk), new.get(pk)
            if label == "catalog.microapp" and a and b:
                a = {k: v for k, v in a.items() if k not in UNAUDITED_APP_FIELDS}
                b = {k: v for k, v in b.items() if k not in UNAUDITED_APP_FIELDS}
            if a != b:
                touched.add((b or a)[column])
    events = before["catalog.auditevent"]
    audited = {row["app_id"] for pk, row in after["catalog.auditevent"].items() if pk not in events}
    assert touched <= audited, f"apps {sorted(touched - audited)} changed without an audit event"
    deliveries = before["lifecycle.telemetrydelivery"]
    for pk, row in after["lifecycle.telemetrydelivery"].items():
        if pk not in deliveries:
            app_id = row["app_id"]
            seen = after["catalog.microapp"][app_id]["last_seen_at"]
            assert seen != before["catalog.microapp"][app_id]["last_seen_at"], (
                "an accepted telemetry delivery left its app's last_seen_at alone"
            )


# --- bodies ----------------------------------------------------------------------------------

FILE_FIELDS = ("file",)


def urlencoded(fields: dict[str, list[bytes]]) -> bytes:
    return b"&".join(
        quote_from_bytes(name.encode()).encode() + b"=" + quote_from_bytes(value).encode()
        for name, values in fields.items()
        for value in values
    )


def multipart_form(fields: dict[str, list[bytes]], boundary: str = "FuZzBoUnDaRy") -> bytes:
    out = []
    for name, values in fields.items():
        for value in values:
            filename = f'; filename="{name}.yaml"' if name in FILE_FIELDS else ""
            out.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{filename}'
                "\r\n\r\n".encode()
                + value
                + b"\r\n"
            )
    return b"".join(out) + f"--{boundary}--\r\n".encode()


def encode_text(value: str) -> bytes:
    # Lone surrogates travel as their raw (invalid UTF-8) bytes, as a broken client sends them.
    return value.encode("utf-8", "surrogatepass")


def form_values(name: str) -> st.SearchStrategy[list[bytes]]:
    if name in FILE_FIELDS:
        return st.lists(fz.yaml_texts().map(encode_text), min_size=1, max_size=1)
    return st.lists(fz.texts.map(encode_text), min_size=1, max_size=2)


def draw_form_body(data, names: set[str]) -> tuple[str, bytes]:
    fields = data.draw(
        st.fixed_dictionaries({}, optional={n: form_values(n) for n in sorted(names)}),
        label="form fields",
    )
    if data.draw(st.booleans(), label="multipart"):
        return "multipart/form-data; boundary=FuZzBoUnDaRy", multipart_form(fields)
    return "application/x-www-form-urlencoded", urlencoded(fields)


def draw_api_body(data, target: Target) -> tuple[str, bytes]:
    how = data.draw(st.sampled_from(["object", "raw", "yaml", "multipart"]), label="how")
    if how == "object":
        obj = data.draw(fz.objects_for(target.fields), label="json object")
        return "application/json", fz.json_bytes(obj)
    if how == "raw":
        return data.draw(fz.raw_bodies, label="raw body")
    text_fields = [n for n, s in target.fields.items() if s.get("type") in ("string", None)]
    yaml_text = data.draw(fz.yaml_texts(), label="yaml")
    if how == "yaml":
        if any("yaml" in ct for ct in target.content_types) or not text_fields:
            return "application/yaml", encode_text(yaml_text)
        name = data.draw(st.sampled_from(text_fields), label="yaml field")
        return "application/json", fz.json_bytes({name: yaml_text})
    names = set(target.fields) | {"file"}
    name = data.draw(st.sampled_from(sorted(names)), label="multipart field")
    return "multipart/form-data; boundary=FuZzBoUnDaRy", multipart_form(
        {name: [encode_text(yaml_text)]}
    )


def sign(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def draw_telemetry(data, fleet: Fleet) -> tuple[str, bytes, dict]:
    report = st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(fz.json_values(4), st.just(good))
            for name, good in {
                "date": time.strftime("%Y-%m-%d"),
                "region": "eu-central",
                "requests": 10,
                "errors": 0,
                "p95_ms": 12.5,
                "cost": "0.10",
                "currency": "EUR",
            }.items()
        },
    )
    shaped = st.fixed_dictionaries(
        {"app": st.one_of(st.just(fleet.telemetry_slug), fz.texts)},
        optional={"reports": st.one_of(st.lists(report, max_size=3), fz.json_values(4))},
    ).map(fz.json_bytes)
    content_type, body = data.draw(
        st.one_of(st.tuples(st.just("application/json"), shaped), fz.raw_bodies), label="body"
    )
    # Header values reach Django as WSGI gives them: the raw bytes read as latin-1.
    header_texts = fz.texts.map(lambda text: encode_text(text).decode("latin-1"))
    msg_id = data.draw(st.one_of(st.just("msg_fuzz"), header_texts), label="webhook-id")
    now = int(time.time())
    timestamp = data.draw(
        st.one_of(st.just(str(now)), st.just(str(now - 3600)), header_texts), label="timestamp"
    )
    if data.draw(st.booleans(), label="validly signed"):
        signature = sign(fleet.telemetry_secret, msg_id, timestamp, body)
    else:
        signature = data.draw(header_texts, label="signature")
    headers = {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": timestamp,
        "HTTP_WEBHOOK_SIGNATURE": signature,
    }
    return content_type, body, {k: v for k, v in headers.items() if "\x00" not in v}


# --- the test ----------------------------------------------------------------------------------

FORM_FIELDS: dict[str, set[str]] = {}


def crawl_form_fields(fleet: Fleet) -> dict[str, set[str]]:
    """Field names of every form the pages render, read once per session."""
    if not FORM_FIELDS:
        pages = {}
        paths = ["/", "/login/", "/apps/new/", "/me/notifications/", "/sunset-cases/"]
        paths += [f"/reviews/{pk}/" for pk in fleet.review_ids]
        paths += [f"/apps/{slug}/" for slug in fleet.app_slugs]
        paths += [f"/apps/{slug}/edit/" for slug in fleet.app_slugs]
        for role in ("alice", "pat", "anonymous"):
            for path in paths:
                response = fleet.clients[role].get(path)
                if response.status_code == 200:
                    pages[path] = response.content
        FORM_FIELDS.update(form_fields(pages))
    return FORM_FIELDS


@pytest.fixture
def fleet(db):
    return Fleet()


TARGETS = all_targets()


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_hostile_bodies_never_crash_or_half_write(target: Target, fleet: Fleet):
    fields = crawl_form_fields(fleet).get(target.name, set()) if target.kind == "page" else set()
    before = snapshot()

    @settings(settings.get_profile(fuzz_profile()))
    @given(data=st.data())
    def run(data):
        role = data.draw(st.sampled_from(ROLES), label="role")
        url = target.route
        for name in target.parameters:
            value = data.draw(fleet.parameter(target, name), label=name)
            url = url.replace(f"{{{name}}}", value)
            url = re.sub(rf"<(?:\w+:)?{name}>", value, url)
        extra: dict = {}
        if target.kind == "telemetry":
            content_type, body, extra = draw_telemetry(data, fleet)
        elif target.kind == "page" and data.draw(st.booleans(), label="form-shaped"):
            content_type, body = draw_form_body(data, fields | {"x"})
        elif target.kind == "page":
            content_type, body = data.draw(fz.raw_bodies, label="raw body")
        else:
            content_type, body = draw_api_body(data, target)
        with transaction.atomic():
            cache.clear()
            response = fleet.clients[role].generic(
                target.method, url, data=body, content_type=content_type, **extra
            )
            where = f"{target.method} {url} as {role} ({content_type})"
            assert response.status_code < 500, f"{where} answered {response.status_code}"
            after = snapshot()
            if 400 <= response.status_code < 500:
                assert changed_models(before, after) == [], (
                    f"{where} answered {response.status_code} but changed rows"
                )
            else:
                assert_whole(before, after)
            transaction.set_rollback(True)

    run()


# --- the enumeration itself -------------------------------------------------------------------

KNOWN_API = {
    "apps_create",
    "apps_update",
    "apps_partial_update",
    "apps_contracts_create",
    "apps_renew_create",
    "apps_retire_create",
    "apps_rotate_secret_create",
    "apps_submit_create",
    "apps_import",
    "contracts_check",
    "policies_evaluate_create",
    "regions_create",
    "reviews_decide_create",
    "sunset_cases_respond_create",
    "sunset_cases_decide_create",
    "teams_create",
    "telemetry_ingest",
}
KNOWN_PAGES = {
    "login",
    "app-create",
    "app-edit",
    "app-contract-upload",
    "review-detail",
    "lifecycle:app-renew",
    "lifecycle:sunset-respond",
    "lifecycle:sunset-decide",
    "lifecycle:notifications",
}


def test_the_enumeration_finds_every_known_write_endpoint():
    assert {t.name for t in api_targets()} >= KNOWN_API
    assert {t.name for t in page_targets()} >= KNOWN_PAGES
    fields = {t.name: t.fields for t in api_targets()}
    # Field names come from the serializers, so wrong-typed values reach real fields.
    assert {"slug", "name", "team", "regions", "depends_on"} <= fields["apps_create"].keys()
    assert {"decision", "comment"} <= fields["reviews_decide_create"].keys()


def test_form_fields_are_read_from_the_rendered_forms(fleet):
    fields = crawl_form_fields(fleet)
    assert {"username", "password"} <= fields["login"]
    assert {"slug", "name", "team", "regions"} <= fields["app-create"]
    assert {"justification"} <= fields["lifecycle:app-renew"]
    assert {"decision", "comment"} <= fields["review-detail"]
    assert "file" in fields["app-contract-upload"] or "content" in fields["app-contract-upload"]


def test_the_row_checks_catch_a_refusal_that_wrote_and_an_unaudited_write(fleet):
    """The two checks above, on writes made by hand: each must see what it is there for."""
    before = snapshot()
    with transaction.atomic():
        app = MicroApp.objects.order_by("pk").first()
        assert app is not None
        MicroApp.objects.filter(pk=app.pk).update(name="Changed behind the audit trail")
        after = snapshot()
        assert changed_models(before, after) == ["catalog.microapp"]
        with pytest.raises(AssertionError, match="without an audit event"):
            assert_whole(before, after)
        transaction.set_rollback(True)
    assert changed_models(before, snapshot()) == []
