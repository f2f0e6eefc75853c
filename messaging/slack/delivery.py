"""Slack posts from outbox rows: a person's row is a direct message (their Slack id found
by email), a team's row goes to the team's channel."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from catalog.models import Notification, Team
from core.outbox import Message, PermanentFailure
from messaging.alerts import resolve_alerts
from messaging.models import AlertCode
from messaging.slack.blocks import message_for
from messaging.slack.client import (
    GONE_FROM_SLACK,
    error_code,
    fail,
    forget_user_id,
    slack_enabled,
    user_id_for,
    web_client,
)

NOT_CONFIGURED = "Slack is not configured: set SLACK_BOT_TOKEN."
NO_CHANNEL = "The team has no Slack channel."
DEACTIVATED = "The recipient is deactivated."
NO_EMAIL = "The recipient has no email address to find them in Slack by."
NOBODY = "The row names neither a person nor a team."


def slack_message(note: Notification) -> Message:
    if not slack_enabled():
        return Message(key=note.pk, undeliverable=NOT_CONFIGURED)
    recipient, team = note.recipient, note.team
    if recipient is not None:
        if not recipient.is_active:
            return Message(key=note.pk, undeliverable=DEACTIVATED)
        if not recipient.email:
            return Message(key=note.pk, undeliverable=NO_EMAIL)
        return Message(key=note.pk, call=lambda: post_direct(note, recipient))
    if team is not None:
        if not team.slack_channel:
            return Message(key=note.pk, undeliverable=NO_CHANNEL)
        return Message(key=note.pk, call=lambda: post_to_team(note, team))
    return Message(key=note.pk, undeliverable=NOBODY)


def post_direct(note: Notification, user) -> None:
    client = web_client()
    slack_id = user_id_for(user, client)
    if not slack_id:
        raise PermanentFailure(
            f"{user.email} is not in this Slack workspace (looked up by email); "
            "they are asked again after a day."
        )
    post = message_for(note)
    try:
        # A user id as the channel opens (or reuses) the bot's direct message with them.
        client.chat_postMessage(
            channel=slack_id, text=post.text, blocks=post.blocks, unfurl_links=False
        )
    except SlackApiError as exc:
        if error_code(exc) in GONE_FROM_SLACK:
            forget_user_id(user, exc)
        fail(exc)
    resolve_alerts(AlertCode.SLACK_AUTH, "")


def post_to_team(note: Notification, team: Team) -> None:
    channel = team.slack_channel
    post = message_for(note)
    client = web_client()
    try:
        client.chat_postMessage(
            channel=channel, text=post.text, blocks=post.blocks, unfurl_links=False
        )
    except SlackApiError as exc:
        fail(exc, channel=channel, team=team)
    resolve_alerts(AlertCode.SLACK_AUTH, "")
    resolve_alerts(AlertCode.SLACK_CHANNEL, channel)
