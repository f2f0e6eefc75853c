"""Day counts as people read them, shared by badges, panels and notifications."""

from __future__ import annotations

from datetime import datetime, timedelta

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


def time_left_in_words(left: timedelta) -> str:
    """A deadline ``left`` away as a sentence ends: "in 6 days", "in 20 hours", "in 35
    minutes". Days only from two days on, so a deadline later today or tomorrow morning
    is never called "tomorrow" or "today": hourly reminders need the hour."""
    minutes = round(left.total_seconds() / 60)
    if minutes <= 0:
        return "now"
    if minutes < 60:
        return f"in {minutes} minute{'' if minutes == 1 else 's'}"
    hours = round(minutes / 60)
    if hours < 48:
        return f"in {hours} hour{'' if hours == 1 else 's'}"
    return f"in {round(hours / 24)} days"


def days_in_words(days: int) -> str:
    """A configured period as people say it: "a year" for 365, else "90 days"."""
    if days == 365:
        return "a year"
    return "1 day" if days == 1 else f"{days} days"


def day_list(days: list[int]) -> str:
    """Reminder days, largest first, as prose: "30, 14, 7 and 1 days"."""
    ordered = [str(d) for d in sorted(set(days), reverse=True)]
    if not ordered:
        return ""
    joined = ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " and " + ordered[-1]
    return f"{joined} day{'' if ordered == ['1'] else 's'}"
