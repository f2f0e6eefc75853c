"""Day counts as people read them, shared by badges, panels and notifications."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def days_until(moment: datetime | None) -> int | None:
    """Whole days from now until ``moment`` (negative when it has passed)."""
    if moment is None:
        return None
    # Round to the nearest day: "5 days left" for 4 days 23 hours reads as people expect.
    return round((moment - timezone.now()).total_seconds() / 86400)
