"""Shared by the registry's models: text limits, name and slug validators, transition types."""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    RegexValidator,
)
from django.db import models

# Free text people type (descriptions, reasons, review comments) is shown on pages, sent in
# emails and webhooks and copied into audit events: a few pages of text is plenty, and a
# bound keeps one request from storing megabytes.
FREE_TEXT_MAX = 5000


def free_text(**kwargs) -> models.TextField:
    return models.TextField(
        max_length=FREE_TEXT_MAX, validators=[MaxLengthValidator(FREE_TEXT_MAX)], **kwargs
    )


def no_control_characters(value: str) -> None:
    """Refuse control characters (newlines, tabs, NUL...) in a one-line name.

    A name travels into email subjects, webhook payloads and log lines: a newline in one
    would make every email about the app fail to send (a header cannot hold it).
    """
    if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in str(value)):
        raise ValidationError(
            "Names cannot contain control characters such as line breaks or tabs.",
            code="control_characters",
        )


slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lowercase letters, digits and single hyphens, e.g. ticket-router.",
)


# Slugs that would collide with fixed routes (/apps/new/, /apps/validate/,
# /api/v1/apps/import/, /apps/transfer/): an app with one of them could never be reached.
RESERVED_SLUGS = frozenset({"new", "validate", "import", "picker", "transfer"})


class TransitionError(ValidationError):
    """A lifecycle transition that is not allowed from the app's current state."""


class Transition(NamedTuple):
    sources: frozenset[str]
    target: str
    verb: str  # for refusals: "Cannot <verb> an app that is <state>."
