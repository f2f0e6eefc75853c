"""Celery tasks of the scorecards app: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from scorecards import periods, services


@shared_task(name="scorecards.compute_quarterly_scorecards")
def compute_quarterly_scorecards(quarter: str | None = None) -> dict:
    """Score every app live during ``quarter`` (default: the quarter that just ended).

    Safe to run twice or concurrently: rows are upserted on (app, quarter)."""
    period = periods.parse_quarter(quarter) if quarter else periods.previous_quarter()
    result = services.scorecards_compute(quarter=period)
    return {"quarter": result.quarter, "scored": result.scored, "grades": result.grades}
