from datetime import date

import pytest

from scorecards import periods
from scorecards.periods import PeriodError, parse_period, parse_quarter


def test_quarter_covers_three_months_half_open():
    q = parse_quarter("2026-Q4")
    assert (q.kind, q.label) == ("quarter", "2026-Q4")
    assert (q.start, q.end, q.last) == (date(2026, 10, 1), date(2027, 1, 1), date(2026, 12, 31))
    assert parse_quarter("2026-Q3").days == 92


def test_month_period():
    m = parse_period("2026-02")
    assert (m.kind, m.start, m.last, m.days) == ("month", date(2026, 2, 1), date(2026, 2, 28), 28)


def test_date_range_is_inclusive():
    r = parse_period(start="2026-10-05", end="2026-10-05")
    assert (r.kind, r.start, r.end, r.days) == ("range", date(2026, 10, 5), date(2026, 10, 6), 1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"period": "2026-Q5"},
        {"period": "2026-13"},
        {"period": "Q4-2026"},
        {"period": "10000-Q1"},
        {"period": "0999-Q1"},
        {"start": "2026-02-01", "end": "2026-01-01"},
        {"start": "2026-01-01", "end": "nope"},
    ],
)
def test_bad_periods_name_the_accepted_forms(kwargs):
    period = kwargs.pop("period", None)
    with pytest.raises(PeriodError):
        parse_period(period, **kwargs)


def test_previous_and_shift():
    assert periods.previous_quarter(date(2026, 1, 1)).label == "2025-Q4"
    assert periods.previous_quarter(date(2026, 11, 27)).label == "2026-Q3"
    assert periods.shift(parse_quarter("2026-Q1"), -1).label == "2025-Q4"
    assert periods.shift(parse_period("2026-01"), -1).label == "2025-12"
    assert [m.label for m in parse_quarter("2026-Q4").months()] == ["2026-10", "2026-11", "2026-12"]


def test_dates_win_and_lone_dates_are_completed():
    both = parse_period("2026-Q4", start="2026-01-01", end="2026-01-02")
    assert (both.kind, both.days) == ("range", 2)
    assert parse_period(end="2026-11-02").start == date(2026, 10, 1)
    assert parse_period(start="2026-01-01").end > date(2026, 1, 1)


def test_the_calendar_edges_do_not_overflow():
    assert parse_quarter("9999-Q4").end == date.max
    assert parse_period(start="0001-01-01", end="9999-12-31").last < date.max
