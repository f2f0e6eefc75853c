"""The modals the Slack buttons open: one required text field each, and the confirmation
that replaces a modal once its action went through."""

from __future__ import annotations

from typing import Any

# Slack cuts modal titles at 24 characters and plain-text inputs at 3000.
TITLE_MAX = 24
INPUT_MAX = 3000


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def text_modal(
    *,
    callback_id: str,
    private_metadata: str,
    title: str,
    intro: str,
    block_id: str,
    label: str,
    submit: str,
    min_length: int = 0,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": block_id,
        "multiline": True,
        "max_length": INPUT_MAX,
    }
    if min_length:
        element["min_length"] = min_length
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "title": _plain(title[:TITLE_MAX]),
        "submit": _plain(submit[:TITLE_MAX]),
        "close": _plain("Cancel"),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
            {"type": "input", "block_id": block_id, "label": _plain(label), "element": element},
        ],
    }


def done(title: str, text: str) -> dict[str, Any]:
    """What a submitted modal turns into: the outcome, and only a Close button."""
    return {
        "type": "modal",
        "title": _plain(title[:TITLE_MAX]),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def submitted_value(view: dict[str, Any], block_id: str) -> str:
    """The text typed into ``block_id`` (its element's action id is the same)."""
    values = (view.get("state") or {}).get("values") or {}
    field = (values.get(block_id) or {}).get(block_id) or {}
    return str(field.get("value") or "")
