"""Telemetry storage: one signed delivery becomes daily usage rows and the calls it
observed to other apps, exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import MicroApp
from lifecycle.models import ObservedCall, TelemetryDelivery, UsageReport

if TYPE_CHECKING:
    from lifecycle.telemetry import CleanReport

# --- telemetry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]
    replayed: bool = False  # the answer stored for an earlier delivery of this webhook id


class DeliveryConflict(Exception):
    """The webhook id was used before for a different body."""


@dataclass(frozen=True)
class Credentials:
    """What verifying a delivery needs to know about its app.

    ``keys`` are the current secret and, if it is still valid, the previous one (empty
    strings left out)."""

    app_id: int
    slug: str
    state: str
    keys: tuple[str, ...]


def telemetry_credentials(slug: str, *, now: datetime) -> Credentials | None:
    """The credentials for verifying a delivery, read afresh on every call so that a
    rotation or a retirement counts from the next call; None for an unknown slug."""
    secrets = ("ingestion_secret", "previous_ingestion_secret", "previous_secret_valid_until")
    try:
        row = MicroApp.objects.values_list("pk", "state", *secrets).get(slug=slug)
    except MicroApp.DoesNotExist:
        return None
    app_id, state, current, previous, previous_until = row
    if previous_until is None or previous_until <= now:
        previous = ""
    return Credentials(app_id, slug, state, tuple(s for s in (current, previous) if s))


# Each report replaces its day's figures: a sender pushes the whole day again as the day
# goes on, so a merge must not add to what an earlier push stored.
_USAGE_KEY = ["app", "date", "region"]
_USAGE_FIGURES = ["requests", "errors", "p95_ms", "cost", "updated_at"]
# A report's calls replace that day's and region's figures for each app they name, the
# same way; an app a later push leaves out keeps what an earlier push stored for it.
_CALL_KEY = ["caller", "callee", "date", "region"]
_CALL_FIGURES = ["requests", "errors", "updated_at"]


def telemetry_store(
    *,
    app_id: int,
    webhook_id: str,
    body_sha256: str,
    rows: list[CleanReport],
    answer: dict[str, Any],
    now: datetime | None = None,
) -> StoredAnswer:
    """Store one verified, validated delivery exactly once, in one transaction: the
    delivery record (unique per app and webhook id), the daily rollups (inserted, or
    replacing the (app, date, region) row already there), the calls each report carries
    (inserted, or replacing the (caller, callee, date, region) row) and the app's
    ``last_seen_at``: one statement each on PostgreSQL, whatever the number of rows.

    If the delivery record exists already (a retry, or a concurrent twin that committed
    first), nothing is written and the answer stored then is returned — or
    DeliveryConflict raised if that id came with a different body.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            TelemetryDelivery.objects.create(
                app_id=app_id,
                webhook_id=webhook_id,
                body_sha256=body_sha256,
                status_code=202,
                response=answer,
                received_at=now,
            )
            if rows:
                UsageReport.objects.bulk_create(
                    [
                        UsageReport(
                            app_id=app_id,
                            region_id=r.region_id,
                            date=r.date,
                            requests=r.requests,
                            errors=r.errors,
                            p95_ms=r.p95_ms,
                            cost=r.cost,
                        )
                        # In key order, so two deliveries for the same days lock
                        # their rows in the same order and never deadlock.
                        for r in sorted(rows, key=lambda r: (r.date, r.region_id))
                    ],
                    update_conflicts=True,
                    unique_fields=_USAGE_KEY,
                    update_fields=_USAGE_FIGURES,
                )
            calls = [
                ObservedCall(
                    caller_id=app_id,
                    callee_id=call.callee_id,
                    region_id=r.region_id,
                    date=r.date,
                    requests=call.requests,
                    errors=call.errors,
                )
                for r in rows
                for call in r.calls
            ]
            if calls:
                ObservedCall.objects.bulk_create(
                    sorted(calls, key=lambda c: (c.date, c.region_id, c.callee_id)),
                    update_conflicts=True,
                    unique_fields=_CALL_KEY,
                    update_fields=_CALL_FIGURES,
                )
            MicroApp.objects.filter(pk=app_id).update(last_seen_at=now)
    except IntegrityError:
        previous = telemetry_previous_answer(
            app_id=app_id, webhook_id=webhook_id, body_sha256=body_sha256
        )
        if previous is None:  # not a duplicate delivery: surface the real problem
            raise
        return previous
    return StoredAnswer(202, answer)


def telemetry_previous_answer(
    *, app_id: int, webhook_id: str, body_sha256: str
) -> StoredAnswer | None:
    """The answer stored for this webhook id, None if there is none; DeliveryConflict if
    the id was used for a different body."""
    previous = (
        TelemetryDelivery.objects.filter(app_id=app_id, webhook_id=webhook_id)
        .values("body_sha256", "status_code", "response")
        .first()
    )
    if previous is None:
        return None
    if previous["body_sha256"] != body_sha256:
        raise DeliveryConflict(webhook_id)
    return StoredAnswer(previous["status_code"], previous["response"], replayed=True)


def telemetry_prune(*, older_than_days: int = 7, now: datetime | None = None) -> int:
    """Forget delivery records older than the retry horizon of any sane sender."""
    now = now or timezone.now()
    deleted, _ = TelemetryDelivery.objects.filter(
        received_at__lt=now - timedelta(days=older_than_days)
    ).delete()
    return deleted
