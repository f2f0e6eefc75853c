"""Block Kit messages for outbox rows: the facts, a context line and the buttons that act
on the matter from Slack. The interaction endpoint reads the buttons back by
``action_id`` and ``value``:

==========================  =================  =========================================
action_id                   value              shown on
==========================  =================  =========================================
``renew``                   the app's slug     expiry reminders (opens the renew modal)
``sunset_accept``           the case's id      sunset notices while the owner may answer
``sunset_contest``          the case's id      same
``review_approve``          the review's id    review requested / overdue, while open
``review_request_changes``  the review's id    same
``open``                    (url button)       every message with a link
==========================  =================  =========================================

The case and the review are looked up when the message is built (one query each, by the
row's app: at most one open of each per app), so a button always names a matter that is
still open, and a message built after it closed simply has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from catalog.models import MicroApp, Notification, Review
from catalog.notifications import absolute
from lifecycle.choices import NoticeKind
from lifecycle.models import SunsetCase

# Block Kit's limits (https://api.slack.com/reference/block-kit/blocks).
HEADER_MAX = 150
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
BUTTON_TEXT_MAX = 75
# The notification fallback shows in push notices and screen readers; Slack truncates
# messages past 40,000 characters, far beyond what we send.
FALLBACK_MAX = 3000

RENEW = "renew"
SUNSET_ACCEPT = "sunset_accept"
SUNSET_CONTEST = "sunset_contest"
REVIEW_APPROVE = "review_approve"
REVIEW_REQUEST_CHANGES = "review_request_changes"
OPEN = "open"

REVIEW_KINDS = frozenset({"review_requested", "review_overdue"})

# Modal callback ids, for the interaction endpoint's ``view_submission``.
RENEW_MODAL = "renew_modal"
CONTEST_MODAL = "sunset_contest_modal"
JUSTIFICATION_BLOCK = "justification"
JUSTIFICATION_ACTION = "justification_input"


@dataclass(frozen=True)
class SlackPost:
    text: str
    blocks: list[dict]


def escape(text: str) -> str:
    """Slack's mrkdwn reads ``<``, ``>`` and ``&`` as markup; a name must not link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict:
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def button(label: str, action_id: str, *, value: str = "", url: str = "", style: str = "") -> dict:
    element: dict = {
        "type": "button",
        "text": plain(label, BUTTON_TEXT_MAX),
        "action_id": action_id,
    }
    if value:
        element["value"] = value
    if url:
        element["url"] = url
    if style:
        element["style"] = style
    return element


def on_date(moment: datetime) -> str:
    return f"{moment:%d %b %Y}"


def days_left(moment: datetime, now: datetime) -> str:
    seconds = (moment - now).total_seconds()
    if seconds <= 0:
        return "expired"
    days = int(seconds // 86400)
    if days == 0:
        return "less than a day"
    return f"{days} day{'s' if days != 1 else ''}"


def open_case(app_id: int | None) -> SunsetCase | None:
    if app_id is None:
        return None
    return SunsetCase.objects.open().filter(app_id=app_id).order_by("-opened_at", "-pk").first()


def open_review(app_id: int | None) -> Review | None:
    if app_id is None:
        return None
    return Review.objects.open().filter(app_id=app_id).order_by("due_at", "pk").first()


def message_for(note: Notification, *, now: datetime | None = None) -> SlackPost:
    """The Block Kit message for one outbox row (its app and team loaded with it)."""
    now = now or timezone.now()
    app: MicroApp | None = note.app if note.app_id else None
    facts: list[dict] = []
    actions: list[dict] = []
    if app is not None:
        facts.append(mrkdwn(f"*App*\n<{absolute(app.get_absolute_url())}|{escape(app.name)}>"))
        facts.append(mrkdwn(f"*Team*\n{escape(app.team.name)}"))
    if note.kind == NoticeKind.EXPIRY_REMINDER and app is not None:
        if app.expires_at is not None:
            facts.append(mrkdwn(f"*Days left*\n{days_left(app.expires_at, now)}"))
            facts.append(mrkdwn(f"*Expires*\n{on_date(app.expires_at)}"))
        actions.append(button("Renew", RENEW, value=app.slug, style="primary"))
    elif note.kind == NoticeKind.SUNSET_NOTICE:
        case = open_case(note.app_id)
        if case is not None:
            facts.append(mrkdwn(f"*Answer by*\n{on_date(case.grace_ends_at)}"))
            if not case.response and case.escalated_at is None:
                actions.append(button("Accept", SUNSET_ACCEPT, value=str(case.pk)))
                actions.append(
                    button("Contest", SUNSET_CONTEST, value=str(case.pk), style="danger")
                )
    elif note.kind in REVIEW_KINDS:
        review = open_review(note.app_id)
        if review is not None:
            facts.append(mrkdwn(f"*Due*\n{review.due_at:%d %b %Y %H:%M} UTC"))
            actions.append(button("Approve", REVIEW_APPROVE, value=str(review.pk), style="primary"))
            actions.append(button("Request changes", REVIEW_REQUEST_CHANGES, value=str(review.pk)))
    link = absolute(note.link)
    if link:
        actions.append(button("Open in Appkeeper", OPEN, url=link))
    blocks: list[dict] = [
        {"type": "header", "text": plain(note.subject, HEADER_MAX)},
        {"type": "section", "text": mrkdwn(escape(note.body))},
    ]
    if facts:
        blocks.append({"type": "section", "fields": [clip_field(f) for f in facts[:10]]})
    blocks.append({"type": "context", "elements": [mrkdwn(context_line(note))]})
    if actions:
        blocks.append({"type": "actions", "elements": actions})
    text = note.subject if not link else f"{note.subject} {link}"
    return SlackPost(text=clip(text, FALLBACK_MAX), blocks=blocks)


def clip_field(field: dict) -> dict:
    return {**field, "text": clip(field["text"], FIELD_TEXT_MAX)}


def context_line(note: Notification) -> str:
    kind = NoticeKind(note.kind).label if note.kind in NoticeKind.values else note.kind
    team = note.team if note.recipient_id is None else None
    where = (
        f"posted to the {escape(team.name)} channel"
        if team is not None
        else "sent to you: choose what reaches you where under Preferences"
    )
    return f"Appkeeper · {escape(kind.replace('_', ' '))} · {where}"


# --- modals (opened by the interaction endpoint) ---------------------------------------------


def justification_modal(
    *, callback_id: str, title: str, intro: str, submit: str, metadata: str
) -> dict:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {"type": "section", "text": mrkdwn(intro)},
            {
                "type": "input",
                "block_id": JUSTIFICATION_BLOCK,
                "label": plain("Justification", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": JUSTIFICATION_ACTION,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }


def renew_modal(app: MicroApp) -> dict:
    """Asks why ``app`` should run another period; ``private_metadata`` is its slug."""
    return justification_modal(
        callback_id=RENEW_MODAL,
        title="Renew app",
        intro=f"Why should *{escape(app.name)}* keep running for another period?",
        submit="Renew",
        metadata=app.slug,
    )


def contest_modal(case: SunsetCase) -> dict:
    """Asks why the case's app should not be retired; ``private_metadata`` is the case id."""
    return justification_modal(
        callback_id=CONTEST_MODAL,
        title="Contest the sunset",
        intro=f"Why should *{escape(case.app.name)}* not be retired?",
        submit="Contest",
        metadata=str(case.pk),
    )
