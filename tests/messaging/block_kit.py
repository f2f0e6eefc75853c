"""A validator of the Block Kit shapes Appkeeper sends. Slack publishes no JSON Schema for
Block Kit, only its reference pages; each limit below cites the page it comes from, and
anything outside what we send (other block and element types) is refused, so a builder
that starts sending something new must be checked against the reference first.

``message_errors(text, blocks)`` and ``view_errors(view)`` return the list of problems
(empty when valid), each naming the path of the offending value.
"""

from __future__ import annotations

from typing import Any

# https://api.slack.com/reference/block-kit/blocks: "a maximum of 50 blocks in each
# message, and 100 blocks in modals or Home tabs".
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
# https://api.slack.com/reference/block-kit/blocks#section: text "Maximum length ... is
# 3000 characters"; fields "Maximum number of items is 10. Maximum length for the text in
# each item is 2000 characters".
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
# https://api.slack.com/reference/block-kit/blocks#header: plain_text, "Maximum length
# for the text in this field is 150 characters".
HEADER_TEXT_MAX = 150
# https://api.slack.com/reference/block-kit/blocks#actions: "up to 25 elements".
ACTIONS_ELEMENTS_MAX = 25
# https://api.slack.com/reference/block-kit/blocks#context: "Maximum number of items is 10".
CONTEXT_ELEMENTS_MAX = 10
# https://api.slack.com/reference/block-kit/block-elements#button: text plain_text "max
# 75 characters"; action_id "Maximum length ... 255 characters" and unique among the
# message's actions; url "Maximum length ... 3000"; value "Maximum length ... 2000";
# style "primary" or "danger".
BUTTON_TEXT_MAX = 75
ACTION_ID_MAX = 255
BUTTON_URL_MAX = 3000
BUTTON_VALUE_MAX = 2000
BUTTON_STYLES = {"primary", "danger"}
# https://api.slack.com/reference/block-kit/blocks: block_id "Maximum length ... 255".
BLOCK_ID_MAX = 255
# https://api.slack.com/reference/surfaces/views: type modal; title, submit and close are
# plain_text of at most 24 characters; callback_id and private_metadata at most 255 and
# 3000; submit is required when an input block is present.
VIEW_TITLE_MAX = 24
VIEW_CALLBACK_ID_MAX = 255
VIEW_METADATA_MAX = 3000
# https://api.slack.com/reference/block-kit/blocks#input: label plain_text "Maximum length
# ... 2000 characters"; hint 2000.
INPUT_LABEL_MAX = 2000
# https://api.slack.com/reference/block-kit/block-elements#input: plain_text_input
# max_length "Maximum value is 3000"; placeholder 150.
PLAIN_INPUT_MAX = 3000


def text_object_errors(
    obj: Any, path: str, *, limit: int, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")
) -> list[str]:
    """https://api.slack.com/reference/block-kit/composition-objects#text: ``type`` is
    plain_text or mrkdwn, ``text`` 1 to N characters; ``emoji`` only on plain_text."""
    if not isinstance(obj, dict):
        return [f"{path}: not a text object"]
    errors = []
    if obj.get("type") not in kinds:
        errors.append(f"{path}.type: {obj.get('type')!r} is not one of {kinds}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"{path}.text: empty or not a string")
    elif len(text) > limit:
        errors.append(f"{path}.text: {len(text)} characters > {limit}")
    if "emoji" in obj and obj.get("type") != "plain_text":
        errors.append(f"{path}.emoji: only plain_text has emoji")
    extra = set(obj) - {"type", "text", "emoji", "verbatim"}
    if extra:
        errors.append(f"{path}: unknown keys {sorted(extra)}")
    return errors


def button_errors(element: dict, path: str) -> list[str]:
    errors = text_object_errors(
        element.get("text"), f"{path}.text", limit=BUTTON_TEXT_MAX, kinds=("plain_text",)
    )
    action_id = element.get("action_id")
    if not isinstance(action_id, str) or not 0 < len(action_id) <= ACTION_ID_MAX:
        errors.append(f"{path}.action_id: missing or longer than {ACTION_ID_MAX}")
    if "value" in element and not (
        isinstance(element["value"], str) and 0 < len(element["value"]) <= BUTTON_VALUE_MAX
    ):
        errors.append(f"{path}.value: empty or longer than {BUTTON_VALUE_MAX}")
    if "url" in element:
        url = element["url"]
        if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            errors.append(f"{path}.url: not an http(s) URL")
        elif len(url) > BUTTON_URL_MAX:
            errors.append(f"{path}.url: longer than {BUTTON_URL_MAX}")
    if "style" in element and element["style"] not in BUTTON_STYLES:
        errors.append(f"{path}.style: {element['style']!r} is not primary or danger")
    extra = set(element) - {"type", "text", "action_id", "value", "url", "style", "confirm"}
    if extra:
        errors.append(f"{path}: unknown keys {sorted(extra)}")
    return errors


def block_errors(block: Any, path: str, action_ids: list[str]) -> list[str]:
    if not isinstance(block, dict):
        return [f"{path}: not an object"]
    errors = []
    if "block_id" in block and not (
        isinstance(block["block_id"], str) and 0 < len(block["block_id"]) <= BLOCK_ID_MAX
    ):
        errors.append(f"{path}.block_id: empty or longer than {BLOCK_ID_MAX}")
    kind = block.get("type")
    if kind == "header":
        errors += text_object_errors(
            block.get("text"), f"{path}.text", limit=HEADER_TEXT_MAX, kinds=("plain_text",)
        )
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"{path}: a section needs text or fields")
        if "text" in block:
            errors += text_object_errors(block["text"], f"{path}.text", limit=SECTION_TEXT_MAX)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not 0 < len(fields) <= SECTION_FIELDS_MAX:
                errors.append(f"{path}.fields: 1 to {SECTION_FIELDS_MAX} items")
            else:
                for i, item in enumerate(fields):
                    errors += text_object_errors(
                        item, f"{path}.fields[{i}]", limit=SECTION_FIELD_TEXT_MAX
                    )
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= CONTEXT_ELEMENTS_MAX:
            errors.append(f"{path}.elements: 1 to {CONTEXT_ELEMENTS_MAX} items")
        else:
            for i, item in enumerate(elements):
                errors += text_object_errors(item, f"{path}.elements[{i}]", limit=SECTION_TEXT_MAX)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= ACTIONS_ELEMENTS_MAX:
            errors.append(f"{path}.elements: 1 to {ACTIONS_ELEMENTS_MAX} items")
        else:
            for i, element in enumerate(elements):
                if not isinstance(element, dict) or element.get("type") != "button":
                    errors.append(f"{path}.elements[{i}]: only buttons are sent")
                    continue
                errors += button_errors(element, f"{path}.elements[{i}]")
                action_ids.append(element.get("action_id", ""))
    elif kind == "divider":
        pass
    elif kind == "input":
        errors += text_object_errors(
            block.get("label"), f"{path}.label", limit=INPUT_LABEL_MAX, kinds=("plain_text",)
        )
        element = block.get("element")
        if not isinstance(element, dict) or element.get("type") != "plain_text_input":
            errors.append(f"{path}.element: only plain_text_input is sent")
        else:
            if not element.get("action_id"):
                errors.append(f"{path}.element.action_id: missing")
            max_length = element.get("max_length", PLAIN_INPUT_MAX)
            if not isinstance(max_length, int) or not 0 < max_length <= PLAIN_INPUT_MAX:
                errors.append(f"{path}.element.max_length: 1 to {PLAIN_INPUT_MAX}")
    else:
        errors.append(f"{path}.type: {kind!r} is not a block type we send")
    return errors


def blocks_errors(blocks: Any, *, limit: int, surface: str) -> list[str]:
    if not isinstance(blocks, list) or not blocks:
        return ["blocks: a non-empty list"]
    errors = []
    if len(blocks) > limit:
        errors.append(f"blocks: {len(blocks)} > {limit}")
    action_ids: list[str] = []
    for i, block in enumerate(blocks):
        if surface == "message" and isinstance(block, dict) and block.get("type") == "input":
            errors.append(f"blocks[{i}]: input blocks belong in modals")
        errors += block_errors(block, f"blocks[{i}]", action_ids)
    if len(action_ids) != len(set(action_ids)):
        errors.append(f"action_id values are not unique: {action_ids}")
    return errors


def message_errors(text: str, blocks: Any) -> list[str]:
    """https://api.slack.com/methods/chat.postMessage: with ``blocks``, ``text`` is the
    fallback for notifications and screen readers (Slack warns when it is missing)."""
    errors = [] if isinstance(text, str) and text.strip() else ["text: fallback text missing"]
    return errors + blocks_errors(blocks, limit=MESSAGE_BLOCKS_MAX, surface="message")


def view_errors(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view: not an object"]
    errors = []
    if view.get("type") != "modal":
        errors.append("type: only modal views are sent")
    errors += text_object_errors(
        view.get("title"), "title", limit=VIEW_TITLE_MAX, kinds=("plain_text",)
    )
    for key in ("submit", "close"):
        if key in view:
            errors += text_object_errors(
                view[key], key, limit=VIEW_TITLE_MAX, kinds=("plain_text",)
            )
    blocks = view.get("blocks")
    if (
        isinstance(blocks, list)
        and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        and "submit" not in view
    ):
        errors.append("submit: required with an input block")
    if len(str(view.get("callback_id", ""))) > VIEW_CALLBACK_ID_MAX:
        errors.append(f"callback_id: longer than {VIEW_CALLBACK_ID_MAX}")
    if len(str(view.get("private_metadata", ""))) > VIEW_METADATA_MAX:
        errors.append(f"private_metadata: longer than {VIEW_METADATA_MAX}")
    return errors + blocks_errors(blocks, limit=VIEW_BLOCKS_MAX, surface="modal")
