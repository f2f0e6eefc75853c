"""Celery beat under a frozen clock: every crontab entry of ``config/celery.py`` at its
times, read from the schedule itself so a test cannot drift from what production runs.

The every-minute drainer (``catalog.send_notifications``) runs after each beat, as it
would within a minute. The quarterly scorecards run too, at their own beat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import time_machine
from celery.schedules import crontab

import catalog.tasks  # noqa: F401  (registers the tasks the schedule names)
import lifecycle.tasks  # noqa: F401
import messaging.tasks  # noqa: F401
import scorecards.tasks  # noqa: F401
from config.celery import app as celery_app

DRAINER = "catalog.send_notifications"


def _due(schedule: crontab, moment: datetime) -> bool:
    return (
        moment.minute in schedule.minute
        and moment.hour in schedule.hour
        and moment.day in schedule.day_of_month
        and moment.month in schedule.month_of_year
        # crontab counts the week from Sunday = 0.
        and moment.isoweekday() % 7 in schedule.day_of_week
    )


def crontab_entries() -> list[tuple[str, crontab]]:
    return [
        (entry["task"], entry["schedule"])
        for entry in celery_app.conf.beat_schedule.values()
        if isinstance(entry["schedule"], crontab)
    ]


def near(*moments: datetime, margin: timedelta = timedelta(hours=2)) -> Callable[[datetime], bool]:
    """An ``hours`` filter for :func:`beats`: the hours within ``margin`` of ``moments``."""
    return lambda hour: any(abs(hour - m) <= margin for m in moments)


def beats(
    start: datetime, end: datetime, *, hours: Callable[[datetime], bool] | None = None
) -> Iterator[tuple[datetime, list[str]]]:
    """``(moment, task names)`` of every crontab beat in ``[start, end)``, in order. Only
    the minutes some entry names are visited, so an hour costs a few steps, not sixty.

    ``hours``: visit only the hours it accepts, plus every hour in which a job that is not
    hourly runs. A simulated year cannot afford all 8,760 hours; the hourly jobs then still
    run every day (at the daily jobs' hours) and every hour around the deadlines a test
    watches, so one that fired early would do so at a visited hour and show in its times."""
    entries = crontab_entries()
    minutes = sorted({m for _, schedule in entries for m in schedule.minute})
    not_hourly = [(t, s) for t, s in entries if len(s.hour) < 24]
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        skipped = hours is not None and not hours(hour)
        if skipped and not any(
            _due(s, hour.replace(minute=m)) for _, s in not_hourly for m in s.minute
        ):
            hour += timedelta(hours=1)
            continue
        for minute in minutes:
            moment = hour.replace(minute=minute)
            if start <= moment < end:
                due = [task for task, schedule in entries if _due(schedule, moment)]
                if due:
                    yield moment, due
        hour += timedelta(hours=1)


def run_beat(
    start: datetime,
    end: datetime,
    *,
    hours: Callable[[datetime], bool] | None = None,
    down: Callable[[datetime], bool] = lambda moment: False,
    twice: bool = False,
    after: Callable[[datetime], None] | None = None,
) -> None:
    """Run what beat runs from ``start`` to ``end``, the clock frozen at each beat.

    ``hours``: see :func:`beats`. ``down(moment)`` true: the workers are out and that
    beat is lost. ``twice``: every beat is delivered twice (a doubled beat, or two
    schedulers). ``after(moment)`` is called after each beat, still at that moment."""
    for moment, names in beats(start, end, hours=hours):
        if down(moment):
            continue
        with time_machine.travel(moment, tick=False):
            for name in names:
                task = celery_app.tasks[name]
                task.apply()
                if twice:
                    task.apply()
            celery_app.tasks[DRAINER].apply()
            if after:
                after(moment)
