"""Day counts as people read them, shared by badges, panels and notifications."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def days_until(moment: datetime | None, *, now: datetime | None = None) -> int | None:
    """Whole days from ``now`` (default: the current time) until ``moment`` (negative when
    it has passed)."""
    if moment is None:
        return None
    # Round to the nearest day: "5 days left" for 4 days 23 hours reads as people expect.
    return round((moment - (now or timezone.now())).total_seconds() / 86400)


def in_days(days: int) -> str:
    """``days`` from now as a sentence ends: "today", "tomorrow", "in 3 days"."""
    if days <= 0:
        return "today"
    return "tomorrow" if days == 1 else f"in {days} days"
