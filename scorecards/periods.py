"""Reporting periods: quarters (``2026-Q4``), months (``2026-10``) and date ranges.

A period is a half-open range of dates ``[start, end)``; ``last`` is the inclusive last day
people read on a report. Parsing errors are ``PeriodError`` with a message that names the
accepted forms, so the API can answer 400 with it verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

# ASCII digits only (Python's \d also takes other scripts' digits) and matched whole with
# ``fullmatch`` (``$`` alone lets a trailing newline through); the patterns are published
# in the OpenAPI schema, so they stay plain ECMA-compatible regular expressions.
QUARTER_RE = re.compile(r"^([1-9][0-9]{3})-Q([1-4])$", re.ASCII)
MONTH_RE = re.compile(r"^([1-9][0-9]{3})-(0[1-9]|1[0-2])$", re.ASCII)
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)
PERIOD_FORMS = "a quarter like 2026-Q4, a month like 2026-10, or from/to dates like 2026-10-01"


class PeriodError(ValueError):
    """A period string or date range that cannot be understood."""


@dataclass(frozen=True)
class Period:
    kind: str  # "quarter", "month" or "range"
    label: str
    start: date
    end: date  # exclusive

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_dt(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_dt(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=UTC)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.last.isoformat(),
        }

    def months(self) -> list[Period]:
        """The calendar months the period touches, in order."""
        out = []
        cursor = date(self.start.year, self.start.month, 1)
        while cursor < self.end:
            out.append(month(cursor.year, cursor.month))
            cursor = out[-1].end
        return out


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    if index // 12 > date.max.year:
        return date.max  # the end of 9999: the calendar stops, so does the period
    if index // 12 < date.min.year:
        return date.min
    return date(index // 12, index % 12 + 1, 1)


def month(year: int, month_number: int) -> Period:
    start = date(year, month_number, 1)
    return Period("month", f"{year:04d}-{month_number:02d}", start, _add_months(start, 1))


def quarter(year: int, number: int) -> Period:
    start = date(year, 3 * (number - 1) + 1, 1)
    return Period("quarter", f"{year:04d}-Q{number}", start, _add_months(start, 3))


def quarter_of(day: date) -> Period:
    return quarter(day.year, (day.month - 1) // 3 + 1)


def current_quarter(today: date | None = None) -> Period:
    return quarter_of(today or timezone.localdate())


def previous_quarter(today: date | None = None) -> Period:
    """The quarter that ended most recently: what the beat job scores on the 1st."""
    return quarter_of(current_quarter(today).start - timedelta(days=1))


def shift(period: Period, steps: int) -> Period:
    """The month or quarter ``steps`` periods later (negative: earlier)."""
    if period.kind == "month":
        start = _add_months(period.start, steps)
        return month(start.year, start.month)
    if period.kind == "quarter":
        start = _add_months(period.start, 3 * steps)
        return quarter_of(start)
    raise PeriodError("Only months and quarters can be shifted.")


def parse_quarter(value: str) -> Period:
    match = QUARTER_RE.fullmatch((value or "").strip())
    if not match:
        raise PeriodError(f"{value!r} is not a quarter; use the form 2026-Q4 (Q1 to Q4).")
    return quarter(int(match.group(1)), int(match.group(2)))


def _parse_date(name: str, value: str) -> date:
    # YYYY-MM-DD only: ``fromisoformat`` also reads 20261001 and week dates (2026-W40-1).
    if not isinstance(value, str) or not DATE_RE.fullmatch(value.strip()):
        raise PeriodError(f"{name}={value!r} is not a date; use YYYY-MM-DD.")
    try:
        return date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise PeriodError(f"{name}={value!r} is not a date; use YYYY-MM-DD.") from None


def parse_period(
    period: str | None = None, *, start: str | None = None, end: str | None = None
) -> Period:
    """Read an inclusive ``from``/``to`` date range, else ``period`` (quarter or month).

    Dates win over ``period`` when both are given (the finance page's picker keeps a period
    selected while someone types dates). A lone ``from`` runs to today; a lone ``to`` starts
    at the beginning of its quarter. Neither: the current quarter.
    """
    start, end, period = (start or "").strip(), (end or "").strip(), (period or "").strip()
    if start or end:
        last = _parse_date("to", end) if end else timezone.localdate()
        first = _parse_date("from", start) if start else quarter_of(last).start
        if last < first:
            raise PeriodError(f"to ({last}) must not be before from ({first}).")
        after = last + timedelta(days=1) if last < date.max else last
        return Period("range", f"{first.isoformat()}..{last.isoformat()}", first, after)
    if period:
        if QUARTER_RE.fullmatch(period):
            return parse_quarter(period)
        match = MONTH_RE.fullmatch(period)
        if match:
            return month(int(match.group(1)), int(match.group(2)))
        raise PeriodError(f"period={period!r} is not valid; use {PERIOD_FORMS}.")
    return current_quarter()
