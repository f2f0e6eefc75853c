"""The Slack Web API client of this installation (bot token, configurable base URL)."""

from __future__ import annotations

from django.conf import settings
from slack_sdk import WebClient

TIMEOUT_SECONDS = 5


def web_client() -> WebClient:
    return WebClient(
        token=settings.SLACK_BOT_TOKEN or None,
        base_url=settings.SLACK_API_BASE_URL,
        timeout=TIMEOUT_SECONDS,
    )
