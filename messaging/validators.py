"""Checks of the chat settings a team saves."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# A channel id (public C…, private G…), or a channel name as Slack allows it.
SLACK_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{8,11}")
SLACK_CHANNEL_NAME = re.compile(r"#[a-z0-9_-]{1,80}")


def validate_slack_channel(value: str) -> None:
    if not value:
        return
    if SLACK_CHANNEL_ID.fullmatch(value) or SLACK_CHANNEL_NAME.fullmatch(value):
        return
    raise ValidationError(
        "Enter a Slack channel id (C or G and 8 to 11 capital letters or digits, as "
        "'Copy link' shows it) or a channel name such as #team-payments (lowercase letters, "
        "digits, - and _, at most 80).",
        code="invalid",
    )
