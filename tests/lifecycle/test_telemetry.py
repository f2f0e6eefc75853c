"""Signed telemetry ingestion (Standard Webhooks): answers, idempotency, hostile bytes."""

from __future__ import annotations

import json
import math
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from catalog.choices import AppState
from catalog.models import MicroApp
from lifecycle import services
from lifecycle.models import TelemetryDelivery, UsageReport
from lifecycle.telemetry import MAX_REPORTS
from tests.lifecycle.conftest import SECRET, body_of, live_app, report, sign

URL = "/api/v1/telemetry/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def post(client, body: bytes, headers: dict | None = None, **kw):
    headers = sign(body, **kw) if headers is None else headers
    return client.post(URL, data=body, content_type="application/json", **headers)


def test_a_signed_report_is_stored_and_answered_202_with_counts(client, app):
    body = body_of(reports=[report(), report(region="us-east", requests=10)])
    response = post(client, body)
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["accepted"] == 2 and data["heartbeat"] is False and data["app"] == app.slug
    row = UsageReport.objects.get(app=app, region__code="eu-central")
    assert (row.requests, row.errors, row.p95_ms, row.cost) == (1200, 3, 180.5, Decimal("4.2"))
    app.refresh_from_db()
    assert app.last_seen_at is not None


def test_an_empty_report_list_is_a_heartbeat(client, app):
    response = post(client, body_of(reports=[]))
    assert response.status_code == 202
    assert response.json()["heartbeat"] is True
    assert not UsageReport.objects.exists()
    app.refresh_from_db()
    assert app.last_seen_at is not None


def test_a_report_replaces_the_daily_rollup_for_the_same_app_date_and_region(client, app):
    post(client, body_of(reports=[report(requests=5)]), msg_id="a")
    post(client, body_of(reports=[report(requests=7)]), msg_id="b")
    assert list(UsageReport.objects.values_list("requests", flat=True)) == [7]


def test_the_standardwebhooks_package_signs_what_we_verify(client, app):
    """The README snippet's way of signing."""
    body = body_of(reports=[report()]).decode()
    msg_id, now = "msg_readme", datetime.now(UTC)
    headers = {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(now.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(SECRET).sign(msg_id, now, body),
    }
    assert post(client, body.encode(), headers).status_code == 202


def test_several_signatures_are_allowed_and_one_matching_is_enough(client, app):
    body = body_of()
    headers = sign(body)
    headers["HTTP_WEBHOOK_SIGNATURE"] = (
        "v1,AAAA v2,whatever garbage " + headers["HTTP_WEBHOOK_SIGNATURE"]
    )
    assert post(client, body, headers).status_code == 202


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.pop("HTTP_WEBHOOK_ID"),
        lambda h: h.pop("HTTP_WEBHOOK_TIMESTAMP"),
        lambda h: h.pop("HTTP_WEBHOOK_SIGNATURE"),
        lambda h: h.update(HTTP_WEBHOOK_SIGNATURE="v1,not base64!"),
        lambda h: h.update(HTTP_WEBHOOK_SIGNATURE="v1," + "A" * 44),
        lambda h: h.update(HTTP_WEBHOOK_TIMESTAMP="yesterday"),
        lambda h: h.update(HTTP_WEBHOOK_TIMESTAMP=str(int(time.time()) - 301)),
        lambda h: h.update(HTTP_WEBHOOK_TIMESTAMP=str(int(time.time()) + 301)),
        lambda h: h.update(HTTP_WEBHOOK_ID="has space"),
    ],
    ids=[
        "no-id",
        "no-ts",
        "no-sig",
        "garbled-sig",
        "wrong-sig",
        "bad-ts",
        "old",
        "future",
        "bad-id",
    ],
)
def test_missing_garbled_or_wrong_headers_are_401_and_nothing_is_stored(client, app, mutate):
    body = body_of(reports=[report()])
    headers = sign(body)
    mutate(headers)
    response = post(client, body, headers)
    assert response.status_code == 401
    assert "detail" in response.json()
    assert not UsageReport.objects.exists() and not TelemetryDelivery.objects.exists()
    app.refresh_from_db()
    assert app.last_seen_at is None


def test_a_signature_made_for_another_app_is_401(client, app, alice, support_tools):
    from tests.lifecycle.conftest import live_app

    live_app(team=support_tools, owner=alice, slug="other", ingestion_secret="whsec_" + "Q" * 44)
    body = body_of("other")
    assert post(client, body).status_code == 401  # signed with ticket-router's secret


def test_unknown_app_and_app_without_secret_are_401(client, app, alice, support_tools):
    from tests.lifecycle.conftest import live_app

    assert post(client, body_of("no-such-app")).status_code == 401
    live_app(team=support_tools, owner=alice, slug="secretless")
    assert post(client, body_of("secretless")).status_code == 401


def test_after_rotation_the_previous_secret_works_for_24_hours(client, app, alice):
    import time_machine

    from lifecycle import services

    new = services.app_rotate_secret(app=app, actor=alice)
    assert new.startswith("whsec_") and len(new) == 6 + 44
    assert post(client, body_of(), msg_id="old-1").status_code == 202
    assert post(client, body_of(), secret=new, msg_id="new-1").status_code == 202
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        assert post(client, body_of(), msg_id="old-2").status_code == 401
        assert post(client, body_of(), secret=new, msg_id="new-2").status_code == 202


def test_a_repeated_webhook_id_with_the_same_body_gets_the_same_answer_stored_once(client, app):
    body = body_of(reports=[report()])
    first = post(client, body, msg_id="dup")
    again = post(client, body, msg_id="dup")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert first.content == again.content  # byte for byte, jsonb's key order included
    assert again["Idempotent-Replayed"] == "true"
    assert TelemetryDelivery.objects.count() == 1
    assert UsageReport.objects.count() == 1


def test_the_same_webhook_id_with_a_different_body_is_422(client, app):
    assert post(client, body_of(reports=[report()]), msg_id="dup").status_code == 202
    response = post(client, body_of(reports=[report(requests=1)]), msg_id="dup")
    assert response.status_code == 422
    assert UsageReport.objects.get().requests == 1200


def test_a_body_over_the_limit_is_413(client, app, settings):
    settings.APPKEEPER_TELEMETRY_MAX_BYTES = 1000
    body = body_of(reports=[report()], padding="x" * 1000)
    assert post(client, body).status_code == 413
    assert not TelemetryDelivery.objects.exists()


def test_a_megabyte_body_is_413_by_default(client, app):
    body = body_of(padding="x" * (1024 * 1024))
    assert post(client, body).status_code == 413


def test_more_than_1000_reports_is_400(client, app):
    reports = [report(timezone.now().date() - timedelta(days=i)) for i in range(1001)]
    assert post(client, body_of(reports=reports)).status_code == 400


def test_1000_reports_are_accepted_in_one_call(client, app):
    today = timezone.now().date()
    codes = ["eu-central", "us-east", "uk-south", "eu-sovereign"]
    reports = [report(today - timedelta(days=i // 4), region=codes[i % 4]) for i in range(1000)]
    response = post(client, body_of(reports=reports))
    assert response.status_code == 202, response.content[:300]
    assert UsageReport.objects.count() == len(reports)


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"region": "mars"}, "region"),
        ({"requests": -1}, "requests"),
        ({"errors": -5}, "errors"),
        ({"cost": "-0.01"}, "cost"),
        ({"p95_ms": -1}, "p95_ms"),
        ({"requests": True}, "requests"),
        ({"requests": 1.5}, "requests"),
        ({"cost": "NaN"}, "cost"),
        ({"cost": "1e400"}, "cost"),
        ({"p95_ms": "HUGE"}, "p95_ms"),
        ({"requests": "HUGE"}, "requests"),
        ({"currency": "USD"}, "currency"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"requests": 10**30}, "requests"),
    ],
)
def test_invalid_reports_are_400_with_their_index(client, app, bad, field):
    reports = [report(), {**report(region="us-east"), **bad}]
    # "HUGE" stands for the literal 1e999, which Python's json reads as infinity.
    body = json.dumps({"app": app.slug, "reports": reports}).replace('"HUGE"', "1e999").encode()
    response = post(client, body)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert errors[0]["index"] == 1 and errors[0]["field"] == field
    assert "Report 1" in response.json()["detail"]
    assert not UsageReport.objects.exists()


def test_dates_in_the_future_or_over_400_days_old_are_400(client, app):
    today = timezone.now().date()
    for day in (today + timedelta(days=1), today - timedelta(days=401)):
        response = post(client, body_of(reports=[report(day)]), msg_id=str(day))
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "date"
    assert post(client, body_of(reports=[report(today - timedelta(days=400))])).status_code == 202


def test_another_currency_at_the_top_is_400(client, app):
    assert post(client, body_of(reports=[report()], currency="USD")).status_code == 400
    assert post(client, body_of(reports=[report()], currency="EUR")).status_code == 202


def test_a_duplicate_date_and_region_in_one_batch_is_400(client, app):
    response = post(client, body_of(reports=[report(), report()]))
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1


def test_a_retired_app_gets_410(client, app):
    app.state = AppState.RETIRED
    app.save()
    response = post(client, body_of(reports=[report()]))
    assert response.status_code == 410
    assert not UsageReport.objects.exists()


def test_the_endpoint_needs_no_user_and_ignores_a_session(client, app, alice):
    client.force_login(alice)
    body = body_of()
    assert client.post(URL, data=body, content_type="application/json").status_code == 401
    assert post(client, body).status_code == 202


# The credentials, then one transaction: BEGIN, the delivery, the day rollups in one
# upsert, last_seen_at, COMMIT (BEGIN and COMMIT are logged as queries).
ACCEPTED_CALL_QUERIES = 6


def usage_inserts(count: int) -> int:
    """Statements Django needs to bulk-insert ``count`` day rollups: one on PostgreSQL,
    while SQLite caps a statement at 999 parameters and so takes 124 rows per statement."""
    if not count:
        return 0
    fields = [f for f in UsageReport._meta.concrete_fields if not f.primary_key]
    per_statement = connection.ops.bulk_batch_size(fields, [None] * count)
    return math.ceil(count / per_statement)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("count", [0, 1, 100, MAX_REPORTS])
def test_an_accepted_call_has_a_fixed_query_budget(
    count, client, app, django_assert_max_num_queries
):
    """On its own, as under gunicorn (no caller's transaction), with the region cache warm:
    the same budget for a heartbeat, one report or a hundred — and, on PostgreSQL, the full
    thousand, which SQLite can only insert in several statements."""
    codes = ["eu-central", "us-east", "uk-south", "eu-sovereign"]
    warm = [report(region=code) for code in codes]
    assert post(client, body_of(reports=warm), msg_id="warm").status_code == 202
    today = timezone.now().date()
    reports = [report(today - timedelta(days=i // 4), region=codes[i % 4]) for i in range(count)]
    body = body_of(reports=reports)
    budget = ACCEPTED_CALL_QUERIES + max(0, usage_inserts(count) - 1)
    with django_assert_max_num_queries(budget):
        response = post(client, body, msg_id="measured")
    assert response.status_code == 202, response.content[:300]
    assert response.json()["accepted"] == count
    assert UsageReport.objects.count() == max(count, len(codes))


# --- credentials are read afresh on every call -----------------------------------------------

OTHER_SECRET = "whsec_" + "Q" * 43 + "="


def test_a_second_rotation_refuses_the_first_secret_from_the_next_call(client, app, alice):
    new = services.app_rotate_secret(app=app, actor=alice)
    assert post(client, body_of(), msg_id="old-ok").status_code == 202  # previous, still valid
    assert post(client, body_of(), secret=new, msg_id="new-ok").status_code == 202
    newer = services.app_rotate_secret(app=MicroApp.objects.get(pk=app.pk), actor=alice)
    response = post(client, body_of(), msg_id="old-refused")
    assert response.status_code == 401
    assert response["WWW-Authenticate"]
    assert post(client, body_of(), secret=new, msg_id="new-as-previous").status_code == 202
    assert post(client, body_of(), secret=newer, msg_id="newer").status_code == 202
    assert not TelemetryDelivery.objects.filter(webhook_id="old-refused").exists()


def test_the_previous_secret_is_refused_from_the_moment_its_validity_ends(client, app, alice):
    new = services.app_rotate_secret(app=app, actor=alice)
    assert post(client, body_of(), msg_id="old-ok").status_code == 202
    MicroApp.objects.filter(pk=app.pk).update(
        previous_secret_valid_until=timezone.now() - timedelta(seconds=1)
    )
    response = post(client, body_of(reports=[report()]), msg_id="old-late")
    assert response.status_code == 401
    assert not TelemetryDelivery.objects.filter(webhook_id="old-late").exists()
    assert not UsageReport.objects.exists()
    assert post(client, body_of(), secret=new, msg_id="new").status_code == 202


def test_a_retirement_counts_from_the_next_call_before_its_reports_are_checked(client, app):
    assert post(client, body_of(), msg_id="before").status_code == 202
    app.refresh_from_db()
    seen = app.last_seen_at
    # As another process would: a plain update, no signal.
    MicroApp.objects.filter(pk=app.pk).update(state=AppState.RETIRED)
    for msg_id, reports in (("r1", [report()]), ("r2", [report(region="mars")]), ("r3", [])):
        response = post(client, body_of(reports=reports), msg_id=msg_id)
        assert response.status_code == 410, (msg_id, response.content)
    assert TelemetryDelivery.objects.count() == 1 and not UsageReport.objects.exists()
    app.refresh_from_db()
    assert app.last_seen_at == seen


def test_a_slug_given_to_another_app_takes_that_apps_secret(client, app, alice, support_tools):
    other = live_app(team=support_tools, owner=alice, slug="other", ingestion_secret=OTHER_SECRET)
    assert post(client, body_of(), msg_id="x0").status_code == 202
    assert post(client, body_of("other"), msg_id="x1").status_code == 401  # SECRET
    MicroApp.objects.filter(pk=app.pk).update(slug="ticket-router-old")
    MicroApp.objects.filter(pk=other.pk).update(slug="ticket-router")
    response = post(client, body_of(reports=[report()]), msg_id="x2")  # the old app's secret
    assert response.status_code == 401
    assert not UsageReport.objects.exists()
    accepted = post(client, body_of(reports=[report()]), secret=OTHER_SECRET, msg_id="x3")
    assert accepted.status_code == 202
    assert TelemetryDelivery.objects.get(webhook_id="x3").app_id == other.pk
    assert UsageReport.objects.get().app_id == other.pk


# --- never a 500 -------------------------------------------------------------------------------

NASTY_BODIES = [
    b"",
    b"null",
    b"[]",
    b"{",
    b'{"app": 5}',
    b'{"app": "ticket-router", "reports": {}}',
    b'{"app": "ticket-router", "reports": [1, "x", null, []]}',
    b'{"app": "ticket-router", "reports": [{"date": 5, "region": [], "requests": {}}]}',
    b'{"app": "ticket-router", "reports": [{"date": "2026-01-01", "region": "eu-central",'
    b' "requests": 1, "cost": {"a": 1}}]}',
    b"\xff\xfe\x00garbage",
    b'{"app": "ticket-router", "reports": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}",
    b'{"app": "' + "é".encode() * 10 + b'"}',
    b'{"app": "ticket-router", "reports": [{"requests": 1' + b"0" * 5000 + b"}]}",
    b'{"app": "ticket-router", "reports": [{"cost": "' + b"9" * 10_000 + b'"}]}',
    b'{"app": "ticket-router", "reports": [], "currency": {"x": 1}}',
    b'{"app": "ticket-router", "reports": [{"p95_ms": NaN}]}',
]


@pytest.mark.parametrize("body", NASTY_BODIES)
def test_hostile_bodies_never_give_a_500(client, app, body):
    response = post(client, body)
    assert response.status_code in {202, 400, 401, 410, 413, 422}, response.content[:200]
    assert response["Content-Type"] == "application/json"


def test_random_bytes_and_headers_never_give_a_500(client, app):
    """A loop-based fuzz test over random bodies (raw and signed) and random headers."""
    rng = random.Random(20261127)
    alphabet = [
        b"{",
        b"}",
        b"[",
        b"]",
        b'"',
        b":",
        b",",
        b"app",
        b"reports",
        b"ticket-router",
        b"date",
        b"region",
        b"requests",
        b"-1",
        b"1e999",
        b"\x00",
        b"\xff",
        b" ",
        b"eu-central",
        b"2026-11-25",
        b"null",
        b"true",
        b"cost",
        b"NaN",
    ]
    header_values = [
        "",
        " ",
        "v1,",
        "v1,====",
        "v2,abc",
        "\x7f",
        "1" * 40,
        "-5",
        "msg_1",
        str(int(time.time())),
        "é",
        "v1," + "A" * 44,
    ]
    for i in range(400):
        if rng.random() < 0.5:
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
        else:
            body = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.5:
            headers = sign(body, msg_id=f"fuzz-{i}")
        else:
            headers = {
                name: rng.choice(header_values)
                for name in ("HTTP_WEBHOOK_ID", "HTTP_WEBHOOK_TIMESTAMP", "HTTP_WEBHOOK_SIGNATURE")
                if rng.random() < 0.8
            }
        response = post(client, body, headers)
        assert response.status_code < 500, (body, headers, response.content[:200])


def test_structured_fuzz_of_signed_reports_never_gives_a_500(client, app):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False),
        st.text(max_size=20),
    )
    field_values = st.one_of(
        scalars,
        st.lists(scalars, max_size=2),
        st.dictionaries(st.text(max_size=3), scalars, max_size=2),
    )
    reports = st.lists(
        st.dictionaries(
            st.sampled_from(
                ["date", "region", "requests", "errors", "p95_ms", "cost", "currency", "x"]
            ),
            st.one_of(field_values, st.sampled_from(["2026-11-25", "eu-central", "EUR"])),
        ),
        max_size=5,
    )
    counter = iter(range(10**6))

    @settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(reports=reports)
    def run(reports):
        body = json.dumps({"app": app.slug, "reports": reports}).encode()
        response = post(client, body, msg_id=f"h-{next(counter)}")
        assert response.status_code in {202, 400}, response.content[:300]

    run()
