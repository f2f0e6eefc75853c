"""What a click in Slack does: find who clicked, then run the action as the web UI would.

Slack sends two kinds of interaction here: ``block_actions`` (a button in a message) and
``view_submission`` (a modal the app opened, submitted). Buttons that need words (Renew,
Contest, Request changes) open a modal; the others act at once. Every action goes through
the service and the ``catalog.permissions`` predicate the web view uses, with the clicking
person as the actor, so the rules, the refusals and the audit trail are the same.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from catalog.notifications import absolute
from messaging.models import ChatProfile
from messaging.slack import interactions_actions as actions
from messaging.slack.client import TIMEOUT_SECONDS, web_client

logger = logging.getLogger(__name__)


def sign_in_first() -> str:
    return f"Sign in to Appkeeper first: <{absolute(reverse('login'))}>, then click again."


# --- who clicked --------------------------------------------------------------------------


def identify(slack_user_id: str):
    """The active Appkeeper user behind a Slack user id, or None.

    Known ids come from ``ChatProfile``; an unknown one is looked up once with
    ``users.info`` (scope ``users:read.email``) and matched to the one active user with that
    email, case-insensitively. Two accounts sharing the address match nobody: acting as the
    wrong one would be worse than asking the person to sign in.
    """
    if not slack_user_id:
        return None
    User = get_user_model()
    known = list(User.objects.filter(chat_profile__slack_user_id=slack_user_id, is_active=True)[:2])
    if len(known) == 1:
        return known[0]
    email = slack_email(slack_user_id)
    if not email:
        return None
    matches = list(User.objects.filter(email__iexact=email, is_active=True)[:2])
    if len(matches) != 1:
        return None
    user = matches[0]
    # The id now belongs to this person only (a Slack account moved to a new address).
    ChatProfile.objects.filter(slack_user_id=slack_user_id).exclude(user=user).update(
        slack_user_id=""
    )
    ChatProfile.objects.update_or_create(
        user=user, defaults={"slack_user_id": slack_user_id, "slack_checked_at": timezone.now()}
    )
    return user


def slack_email(slack_user_id: str) -> str:
    try:
        answer = web_client().users_info(user=slack_user_id)
    except (SlackApiError, SlackClientError, OSError):
        logger.warning("Slack users.info failed for %s", slack_user_id, exc_info=True)
        return ""
    profile = (answer.get("user") or {}).get("profile") or {}
    return str(profile.get("email") or "").strip()


# --- answering ------------------------------------------------------------------------------


def reply(response_url: str, text: str) -> None:
    """An ephemeral message to the person who clicked, under the message they clicked in.
    Best effort: the action has happened whether or not Slack takes the note."""
    if not response_url:
        return
    try:
        answer = WebhookClient(response_url, timeout=TIMEOUT_SECONDS).send(
            text=text, response_type="ephemeral", replace_original=False
        )
    except (SlackClientError, OSError):
        logger.warning("Slack response_url refused the reply", exc_info=True)
        return
    if answer.status_code >= 300:
        logger.warning("Slack response_url answered %s", answer.status_code)


# --- dispatch ---------------------------------------------------------------------------------


def handle(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Act on one verified interaction; returns the JSON body to answer with, if any."""
    kind = payload.get("type")
    slack_user = (payload.get("user") or {}).get("id", "")
    if kind == "block_actions":
        clicked = payload.get("actions") or [{}]
        action_id = str(clicked[0].get("action_id", ""))
        if action_id not in actions.BUTTONS:
            return None  # a link button ("open"), or one from a newer message: nothing to do
        user = identify(slack_user)
        if user is None:
            reply(payload.get("response_url", ""), sign_in_first())
            return None
        text = actions.BUTTONS[action_id](
            user=user,
            value=str(clicked[0].get("value", "")),
            trigger_id=str(payload.get("trigger_id", "")),
        )
        if text:
            reply(payload.get("response_url", ""), text)
        return None
    if kind == "view_submission":
        view = payload.get("view") or {}
        submit = actions.SUBMISSIONS.get(str(view.get("callback_id", "")))
        if submit is None:
            return None
        user = identify(slack_user)
        if user is None:
            return actions.errors(actions.field_of(view), sign_in_first())
        return submit(user=user, view=view)
    return None
