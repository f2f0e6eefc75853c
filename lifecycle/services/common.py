"""Shared by the lifecycle services: limits, errors, the outbox nudge, row locks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import (
    transaction,
)
from django.db.models import Model, QuerySet

from catalog.models import TransitionError
from catalog.querysets import co_owner_ids_subquery
from core.resilience import enqueue_quietly

_M = TypeVar("_M", bound=Model)

JUSTIFICATION_MIN_CHARS = 20
PREVIOUS_SECRET_VALIDITY = timedelta(hours=24)


class RenewalNotAllowed(TransitionError):
    """A renewal outside its window, or of an app in a state that cannot be renewed."""


class SunsetCaseError(TransitionError):
    """An answer or decision a sunset case cannot take in its current state."""


# --- helpers -------------------------------------------------------------------------------


def send_soon() -> None:
    """Drain the outbox right after this transaction commits, instead of at the next beat.

    The rows are already committed, so with the broker down nothing is lost: the publish is
    tried once without making the request wait, and the every-minute beat sends them."""

    def enqueue() -> None:
        from catalog.tasks import send_notifications

        enqueue_quietly(send_notifications)

    transaction.on_commit(enqueue)


def check_justification(text: str, field: str = "justification") -> str:
    text = (text or "").strip()
    if len(text) < JUSTIFICATION_MIN_CHARS:
        raise ValidationError(
            {field: f"Explain in at least {JUSTIFICATION_MIN_CHARS} characters why."}
        )
    return text


def when(moment: datetime) -> str:
    return f"{moment:%d %b %Y %H:%M} UTC"


def lock_rows(queryset: QuerySet[_M]) -> list[_M]:
    """Lock the rows of ``queryset`` for this transaction, skipping rows another worker
    holds (it is handling them); on SQLite the IMMEDIATE transaction is the lock. The
    co-owners to tell come in the same query (``co_owner_ids_subquery``)."""
    return list(
        queryset.select_for_update(skip_locked=True, of=("self",))
        .annotate(co_owner_ids_json=co_owner_ids_subquery())
        .select_related("owner", "team")
        .order_by("pk")
    )
