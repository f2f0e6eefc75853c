"""Talking to Slack's Web API: the client, who a person is in Slack, and what a refusal
means for the outbox (retry later, or give up now and tell the platform team)."""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.utils import timezone
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.outbox import PermanentFailure
from messaging.alerts import raise_alert
from messaging.models import AlertCode, ChatProfile

# Slack's own error codes (https://api.slack.com/methods/chat.postMessage#errors).
AUTH_ERRORS = frozenset(
    {"invalid_auth", "token_revoked", "account_inactive", "not_authed", "missing_scope"}
)
CHANNEL_ERRORS = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
NOT_IN_SLACK = "users_not_found"
# A direct message to a kept Slack id that no longer works (the person left the workspace,
# or the id belongs to a bot): the id is dropped and looked up again after a day.
GONE_FROM_SLACK = frozenset(
    {"channel_not_found", "user_not_found", "user_disabled", "cannot_dm_bot"}
)
# A person without a Slack account is asked about again after this long, not per message.
LOOKUP_MISS_TTL = timedelta(days=1)
TIMEOUT_SECONDS = 5


class SlackRateLimited(Exception):
    """Slack answered 429: the outbox retries the row with its own backoff."""


def slack_enabled() -> bool:
    return bool(settings.SLACK_BOT_TOKEN)


def web_client() -> WebClient:
    base_url = settings.SLACK_API_BASE_URL
    # slack-sdk joins method names onto the base URL as plain strings.
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(token=settings.SLACK_BOT_TOKEN, base_url=base_url, timeout=TIMEOUT_SECONDS)


def error_code(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or "")


def fail(exc: SlackApiError, *, channel: str = "", team=None) -> NoReturn:
    """Raise what the outbox should do about Slack's refusal ``exc``: a revoked token or a
    missing channel cannot be fixed by retrying, so the row is given up and one alert (per
    token, per channel) is opened or bumped; a rate limit or anything unknown is retried."""
    code = error_code(exc)
    if exc.response.status_code == 429 or code == "ratelimited":
        after = exc.response.headers.get("Retry-After", "") if exc.response.headers else ""
        raise SlackRateLimited(f"Slack rate limit (retry after {after or '?'} s)") from exc
    if code in AUTH_ERRORS:
        message = (
            f"Slack refused the bot token ({code}): reinstall the Slack app from "
            "docs/slack-app-manifest.yaml and set SLACK_BOT_TOKEN to its bot token."
        )
        if code == "missing_scope":
            needed = exc.response.data.get("needed", "") if exc.response.data else ""
            message = (
                f"The Slack app lacks a scope ({needed or 'see the manifest'}): update it "
                "from docs/slack-app-manifest.yaml and reinstall it."
            )
        raise_alert(AlertCode.SLACK_AUTH, "", message)
        raise PermanentFailure(message) from exc
    if code in CHANNEL_ERRORS and channel:
        who = f" of team {team.name}" if team is not None else ""
        message = (
            f"Slack channel {channel}{who} cannot be posted to ({code}): set the team's "
            "Slack channel to a live channel and invite the Appkeeper bot to it."
        )
        raise_alert(AlertCode.SLACK_CHANNEL, channel, message, team=team)
        raise PermanentFailure(message) from exc
    raise exc


def chat_profile(user) -> ChatProfile | None:
    """The person's chat profile: as the outbox claim joined it, else read now (the claim
    may predate the lookup an earlier row of the same batch made)."""
    try:
        return user.chat_profile
    except ChatProfile.DoesNotExist:
        return ChatProfile.objects.filter(user=user).first()


def user_id_for(user, client: WebClient | None = None) -> str:
    """The person's Slack user id ("" when they are not in Slack): kept in their chat
    profile once found by email; a miss is remembered for a day."""
    profile = chat_profile(user)
    if profile is not None and profile.slack_user_id:
        return profile.slack_user_id
    now = timezone.now()
    checked = profile.slack_checked_at if profile is not None else None
    if checked is not None and now - checked < LOOKUP_MISS_TTL:
        return ""
    if not user.email:
        return ""
    client = client or web_client()
    try:
        response = client.users_lookupByEmail(email=user.email)
        found = str(response["user"]["id"])
    except SlackApiError as exc:
        if error_code(exc) != NOT_IN_SLACK:
            fail(exc)
        found = ""
    # One upsert: a concurrent worker may have just written the same person's profile.
    ChatProfile.objects.bulk_create(
        [ChatProfile(user=user, slack_user_id=found, slack_checked_at=now)],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["slack_user_id", "slack_checked_at"],
    )
    return found


def forget_user_id(user, exc: SlackApiError) -> NoReturn:
    """Drop a kept Slack id that Slack no longer accepts (it is looked up again after a
    day), and give the row up saying why."""
    ChatProfile.objects.filter(user=user).update(slack_user_id="", slack_checked_at=timezone.now())
    raise PermanentFailure(
        f"Slack refused the direct message to {user.email} ({error_code(exc)}): they seem to "
        "have left the workspace; they are looked up again after a day."
    ) from exc
