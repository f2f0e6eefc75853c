"""Writes of the scorecards app: storing a quarter's scorecards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from scorecards.history import recorded_heartbeats, scorable_apps
from scorecards.models import SCORE_FIELDS, Scorecard
from scorecards.periods import Period
from scorecards.scoring import score_fleet

WRITE_BATCH = 1000
# The columns a rerun replaces: all but the (app, quarter) key.
UPDATED_FIELDS = [
    *("team", "period_start", "period_end"),
    *SCORE_FIELDS,
    *("overall", "grade", "reasons", "metrics", "weights", "rubric_version", "computed_at"),
]


@dataclass(frozen=True)
class ComputeResult:
    quarter: str
    scored: int
    removed: int
    grades: dict[str, int]


@transaction.atomic
def scorecards_compute(
    *,
    quarter: Period,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ComputeResult:
    """Score every app live during ``quarter``, as it stood at the quarter's end, and store
    one Scorecard per app.

    1. Score the fleet in a fixed number of queries (``scoring.score_fleet``), handing it
       the heartbeats this quarter's stored rows recorded: delivery records are pruned
       after 7 days, and a rerun a year later must find the same heartbeat.
    2. Upsert the rows in batches of 1,000 on the (app, quarter) unique constraint, so a
       rerun replaces the quarter's rows and two concurrent runs cannot duplicate them.
    3. Delete the quarter's rows of apps that do not belong on it (registered after it
       ended, retired before it began), so the stored quarter is what this run computed.

    ``progress(done, total)`` is called after each written batch.
    """
    if quarter.kind != "quarter":
        raise ValueError("Scorecards are computed per quarter.")
    now = now or timezone.now()
    stored = dict(Scorecard.objects.filter(quarter=quarter.label).values_list("app_id", "metrics"))
    results, rubric = score_fleet(quarter, now=now, recorded_heartbeats=recorded_heartbeats(stored))
    total = len(results)
    rows = [
        Scorecard(
            app_id=r.app.pk,
            team_id=r.app.team_id,
            quarter=quarter.label,
            period_start=quarter.start,
            period_end=quarter.last,
            overall=r.overall,
            grade=r.grade,
            reasons=r.reasons,
            metrics=r.metrics,
            weights=rubric.weights,
            rubric_version=rubric.version,
            computed_at=now,
            **r.scores,
        )
        for r in results
    ]
    for start in range(0, total, WRITE_BATCH):
        Scorecard.objects.bulk_create(
            rows[start : start + WRITE_BATCH],
            update_conflicts=True,
            unique_fields=["app", "quarter"],
            update_fields=UPDATED_FIELDS,
        )
        if progress:
            progress(min(start + WRITE_BATCH, total), total)
    if progress and not total:
        progress(0, 0)
    removed, _ = (
        Scorecard.objects.filter(quarter=quarter.label)
        .exclude(app__in=scorable_apps(quarter).values("pk"))
        .delete()
    )
    grades: dict[str, int] = {}
    for r in results:
        grades[r.grade] = grades.get(r.grade, 0) + 1
    return ComputeResult(quarter=quarter.label, scored=total, removed=removed, grades=grades)
