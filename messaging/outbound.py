"""Outbox rows for chat services: a Slack post (a person's direct message or a team's
channel) or a Teams card, as the ``Message`` core's sender delivers."""

from __future__ import annotations

from catalog.choices import NotificationChannel
from catalog.models import Notification
from core.outbox import Message


def chat_message(note: Notification) -> Message:
    if note.channel == NotificationChannel.SLACK:
        from messaging.slack.delivery import slack_message

        return slack_message(note)
    from messaging.teams.delivery import teams_message

    return teams_message(note)
