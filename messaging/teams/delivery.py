"""Microsoft Teams cards from outbox rows."""

from __future__ import annotations

from catalog.models import Notification
from core.outbox import Message


def teams_message(note: Notification) -> Message:
    return Message(key=note.pk, undeliverable="Teams delivery is not configured.")
