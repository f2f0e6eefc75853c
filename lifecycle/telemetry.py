"""Reading and verifying a telemetry delivery (Standard Webhooks), before any write.

Everything here is pure: headers, signature, body and reports are checked against the
raw bytes, and every way they can be wrong ends in :class:`Rejected` with the status the
client gets (401, 400, 413...) — never an unexpected exception, whatever the bytes.
The scheme (https://www.standardwebhooks.com/):

- ``webhook-id``: the message id, the same on every retry of one message;
- ``webhook-timestamp``: integer seconds since the epoch, within 5 minutes of our clock;
- ``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` entries over
  ``"{id}.{timestamp}.{raw body}"``, keyed with the base64-decoded ``whsec_`` secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from django.conf import settings

from catalog.choices import AppState
from catalog.models import MicroApp, Region

MAX_REPORTS = 1000
MAX_COUNT = 10**12  # per app, region and day; keeps every SUM far from integer overflow
MAX_P95_MS = 86_400_000.0
MAX_COST = Decimal("9999999999.9999")  # UsageReport.cost: 14 digits, 4 decimals
COST_STEP = Decimal("0.0001")
MAX_AGE_DAYS = 400
MAX_CALLS_PER_REPORT = 100
# One lookup resolves every callee of a delivery; this keeps its IN list far below any
# database's parameter limit.
MAX_CALLEES = 500

_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class Rejected(Exception):
    """A delivery refused with ``status``; ``body`` is the JSON answer."""

    def __init__(self, status: int, detail: str, **extra) -> None:
        super().__init__(detail)
        self.status = status
        self.body = {"detail": detail, **extra}


def unauthorized(detail: str) -> Rejected:
    return Rejected(401, detail)


@dataclass(frozen=True)
class Envelope:
    """The verified-to-be-well-formed headers of a delivery."""

    msg_id: str
    timestamp: str
    signatures: tuple[bytes, ...]


def read_headers(meta: dict, *, now: float | None = None) -> Envelope:
    """Parse the three headers and check the timestamp; 401 for anything missing or off."""
    msg_id = meta.get("HTTP_WEBHOOK_ID", "")
    timestamp = meta.get("HTTP_WEBHOOK_TIMESTAMP", "")
    signature = meta.get("HTTP_WEBHOOK_SIGNATURE", "")
    if not (msg_id and timestamp and signature):
        raise unauthorized(
            "Sign the request: webhook-id, webhook-timestamp and webhook-signature headers "
            "are required (Standard Webhooks)."
        )
    if not _ID.match(msg_id):
        raise unauthorized("webhook-id must be 1 to 200 printable ASCII characters.")
    if not _TIMESTAMP.match(timestamp):
        raise unauthorized("webhook-timestamp must be whole seconds since the Unix epoch.")
    now = time.time() if now is None else now
    tolerance = settings.APPKEEPER_TELEMETRY_TOLERANCE_SECONDS
    if abs(now - int(timestamp)) > tolerance:
        raise unauthorized(
            f"webhook-timestamp is more than {tolerance} seconds away from the server's "
            "clock; check the sender's clock and sign each attempt afresh."
        )
    signatures = []
    for entry in signature.split():
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == hashlib.sha256().digest_size:
            signatures.append(raw)
    if not signatures:
        raise unauthorized('webhook-signature must hold at least one "v1,<base64>" signature.')
    return Envelope(msg_id, timestamp, tuple(signatures))


@lru_cache(maxsize=4096)
def secret_key(secret: str) -> bytes | None:
    """The HMAC key of a ``whsec_`` secret (cached: decoding is per secret, not per call)."""
    if not secret:
        return None
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def matching_secret(envelope: Envelope, body: bytes, secrets) -> str | None:
    """The first of the given secrets under which one of the signatures is an HMAC of the
    message, or None."""
    message = f"{envelope.msg_id}.{envelope.timestamp}.".encode() + body
    for secret in secrets:
        key = secret_key(secret)
        if key is None:
            continue
        expected = hmac.new(key, message, hashlib.sha256).digest()
        for candidate in envelope.signatures:
            if hmac.compare_digest(expected, candidate):
                return secret
    return None


def signature_matches(envelope: Envelope, body: bytes, secrets) -> bool:
    """Whether any of the given signatures is an HMAC of the message under any secret."""
    return matching_secret(envelope, body, secrets) is not None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def parse_body(body: bytes) -> tuple[str, list]:
    """``(app slug, reports)`` from the JSON body; 400 when it is not the documented shape.

    The app has to be read before the signature can be checked (its secret signs it)."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise Rejected(400, "The body must be UTF-8 JSON.") from None
    if not isinstance(data, dict):
        raise Rejected(400, 'The body must be a JSON object: {"app": "<slug>", "reports": []}.')
    slug = data.get("app")
    if not isinstance(slug, str) or not _SLUG.match(slug) or len(slug) > 80:
        raise Rejected(400, '"app" must be the app\'s slug, e.g. "ticket-router".')
    reports = data.get("reports", [])
    if not isinstance(reports, list):
        raise Rejected(400, '"reports" must be a list (an empty list is a heartbeat).')
    currency = data.get("currency")
    if currency is not None and currency != settings.APPKEEPER_CURRENCY:
        raise Rejected(
            400,
            f"Costs are accepted in {settings.APPKEEPER_CURRENCY} only.",
            errors=[{"index": None, "field": "currency", "message": "Unsupported currency."}],
        )
    if len(reports) > MAX_REPORTS:
        raise Rejected(400, f"At most {MAX_REPORTS} reports per request; split the batch.")
    return slug, reports


# --- reports -------------------------------------------------------------------------------

_region_cache: dict[str, int] = {}
_region_cache_at = 0.0
REGION_CACHE_SECONDS = 60.0


def region_ids(codes: set[str]) -> dict[str, int]:
    """Region code → id, from a per-process cache refreshed every minute, or at once when a
    code is missing (so a region added a second ago is accepted)."""
    global _region_cache, _region_cache_at
    fresh = time.monotonic() - _region_cache_at < REGION_CACHE_SECONDS
    if not fresh or not codes <= _region_cache.keys():
        _region_cache = dict(Region.objects.values_list("code", "pk"))
        _region_cache_at = time.monotonic()
    return _region_cache


def clear_region_cache() -> None:
    global _region_cache_at
    _region_cache_at = 0.0


@dataclass
class ReportProblems:
    errors: list[dict] = field(default_factory=list)

    def add(self, index: int, field_name: str, message: str) -> None:
        self.errors.append({"index": index, "field": field_name, "message": message})


def _count(value, name: str, index: int, problems: ReportProblems, *, required: bool) -> int:
    if value is None:
        if required:
            problems.add(index, name, "This field is required.")
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(index, name, "Must be a whole number.")
        return 0
    if value < 0:
        problems.add(index, name, "Must not be negative.")
        return 0
    if value > MAX_COUNT:
        problems.add(index, name, f"Must be at most {MAX_COUNT}.")
        return 0
    return value


def _p95(value, index: int, problems: ReportProblems) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(index, "p95_ms", "Must be a number of milliseconds.")
        return None
    value = float(value)
    if not math.isfinite(value) or value < 0 or value > MAX_P95_MS:
        problems.add(index, "p95_ms", "Must be between 0 and 86400000 milliseconds.")
        return None
    return value


def _cost(value, index: int, problems: ReportProblems) -> Decimal:
    if value is None:
        return Decimal("0")
    if isinstance(value, bool) or not isinstance(value, str | int | float) or len(str(value)) > 40:
        problems.add(index, "cost", 'Must be a decimal amount, e.g. "4.20".')
        return Decimal("0")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        problems.add(index, "cost", 'Must be a decimal amount, e.g. "4.20".')
        return Decimal("0")
    if not amount.is_finite() or amount < 0 or amount > MAX_COST:
        problems.add(index, "cost", "Must be between 0 and 9999999999.9999.")
        return Decimal("0")
    return amount.quantize(COST_STEP, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CleanCall:
    callee_id: int
    requests: int
    errors: int


@dataclass(frozen=True)
class CleanReport:
    date: date
    region_id: int
    requests: int
    errors: int
    p95_ms: float | None
    cost: Decimal
    calls: tuple[CleanCall, ...] = ()


@dataclass(frozen=True)
class CleanBatch:
    """The reports to store, and the calls left out (each with its report index and
    field), which the 202 answer lists so the sender can see what was not recorded."""

    reports: list[CleanReport]
    ignored_calls: list[dict]

    @property
    def call_count(self) -> int:
        return sum(len(r.calls) for r in self.reports)


def _callee_slugs(reports: list) -> set[str]:
    slugs: set[str] = set()
    for report in reports:
        calls = report.get("calls") if isinstance(report, dict) else None
        if isinstance(calls, list):
            slugs.update(
                c["app"] for c in calls if isinstance(c, dict) and isinstance(c.get("app"), str)
            )
    return slugs


def callee_states(slugs: set[str]) -> dict[str, tuple[int, str]]:
    """Slug → (id, state) of the apps a delivery's calls name (one query)."""
    if not slugs:
        return {}
    rows = MicroApp.objects.filter(slug__in=slugs).values_list("slug", "pk", "state")
    return {slug: (pk, state) for slug, pk, state in rows}


def _calls(
    value,
    index: int,
    problems: ReportProblems,
    ignored: list[dict],
    callees: dict[str, tuple[int, str]],
    caller_id: int | None,
) -> tuple[CleanCall, ...]:
    """The calls of one report. A malformed call refuses the batch like any other field;
    a well-formed call to an app the catalog cannot record it against (unknown, a draft,
    retired, or the caller itself) is left out and reported back, so one stale slug in
    the sender's configuration does not cost the day's usage."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(
            index,
            "calls",
            'Must be a list of calls, e.g. [{"app": "billing-api", "requests": 1200}].',
        )
        return ()
    if len(value) > MAX_CALLS_PER_REPORT:
        problems.add(index, "calls", f"At most {MAX_CALLS_PER_REPORT} calls per report.")
        return ()
    clean: list[CleanCall] = []
    seen: dict[str, int] = {}
    for position, call in enumerate(value):
        name = f"calls[{position}]"
        if not isinstance(call, dict):
            problems.add(index, name, "Each call must be a JSON object.")
            continue
        before = len(problems.errors)
        slug = call.get("app")
        if not isinstance(slug, str) or len(slug) > 80 or not _SLUG.match(slug):
            problems.add(
                index, f"{name}.app", 'Must be the called app\'s slug, e.g. "billing-api".'
            )
            slug = None
        elif slug in seen:
            problems.add(index, f"{name}.app", f"Duplicates call {seen[slug]} (same app).")
        else:
            seen[slug] = position
        requests = _count(call.get("requests"), f"{name}.requests", index, problems, required=True)
        errors = _count(call.get("errors"), f"{name}.errors", index, problems, required=False)
        if len(problems.errors) > before or slug is None:
            continue
        pk, state = callees.get(slug, (None, AppState.DRAFT))
        if pk is not None and pk == caller_id:
            reason = "An app's calls to itself are not dependencies; not recorded."
        elif pk is None or state == AppState.DRAFT:
            # A draft is invisible outside its team: answered like an unknown slug.
            reason = f"No app {slug!r} in the catalog; not recorded."
        elif state == AppState.RETIRED:
            reason = f"{slug} is retired; not recorded."
        else:
            clean.append(CleanCall(pk, requests, errors))
            continue
        ignored.append({"index": index, "field": f"{name}.app", "message": reason})
    return tuple(clean)


def validate_reports(reports: list, *, today: date, caller_id: int | None = None) -> CleanBatch:
    """Check every report; 400 listing each problem with its report index (all or none
    are stored)."""
    problems = ReportProblems()
    codes = {
        r["region"] for r in reports if isinstance(r, dict) and isinstance(r.get("region"), str)
    }
    regions = region_ids(codes) if reports else {}
    slugs = _callee_slugs(reports)
    if len(slugs) > MAX_CALLEES:
        raise Rejected(
            400,
            f"Calls may name at most {MAX_CALLEES} different apps per request; split the batch.",
        )
    callees = callee_states(slugs)
    ignored: list[dict] = []
    oldest = today - timedelta(days=MAX_AGE_DAYS)
    currency = settings.APPKEEPER_CURRENCY
    seen: dict[tuple[date, int], int] = {}
    clean: list[CleanReport] = []
    for index, report in enumerate(reports):
        if len(problems.errors) >= 100:
            break
        if not isinstance(report, dict):
            problems.add(index, "", "Each report must be a JSON object.")
            continue
        before = len(problems.errors)
        day = None
        raw_date = report.get("date")
        if not isinstance(raw_date, str) or not _DATE.match(raw_date):
            problems.add(index, "date", "Must be a date as YYYY-MM-DD.")
        else:
            try:
                day = date.fromisoformat(raw_date)
            except ValueError:
                problems.add(index, "date", "Must be a real calendar date.")
            else:
                if day > today:
                    problems.add(index, "date", "Must not be in the future.")
                elif day < oldest:
                    problems.add(index, "date", f"Must be at most {MAX_AGE_DAYS} days old.")
        code = report.get("region")
        region_id = regions.get(code) if isinstance(code, str) else None
        if region_id is None:
            shown = code if isinstance(code, str) and len(code) <= 50 else "?"
            problems.add(index, "region", f"Unknown region {shown!r}.")
        if "currency" in report and report["currency"] != currency:
            problems.add(index, "currency", f"Costs are accepted in {currency} only.")
        requests = _count(report.get("requests"), "requests", index, problems, required=True)
        errors = _count(report.get("errors"), "errors", index, problems, required=False)
        p95 = _p95(report.get("p95_ms"), index, problems)
        cost = _cost(report.get("cost"), index, problems)
        calls = _calls(report.get("calls"), index, problems, ignored, callees, caller_id)
        if len(problems.errors) > before or day is None or region_id is None:
            continue
        key = (day, region_id)
        if key in seen:
            problems.add(index, "date", f"Duplicates report {seen[key]} (same date and region).")
            continue
        seen[key] = index
        clean.append(CleanReport(day, region_id, requests, errors, p95, cost, calls))
    if problems.errors:
        first = problems.errors[0]
        where = f"Report {first['index']}" + (f", {first['field']}" if first["field"] else "")
        raise Rejected(
            400,
            f"{where}: {first['message']} Nothing was stored.",
            errors=problems.errors,
        )
    return CleanBatch(clean, ignored)
