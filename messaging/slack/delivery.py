"""Slack posts from outbox rows."""

from __future__ import annotations

from catalog.models import Notification
from core.outbox import Message


def slack_message(note: Notification) -> Message:
    return Message(key=note.pk, undeliverable="Slack delivery is not configured.")
