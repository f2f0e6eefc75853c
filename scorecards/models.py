"""Scorecards: one row per app per quarter, kept as history."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from catalog.models import MicroApp, Team
from scorecards.choices import Grade
from scorecards.querysets import ScorecardQuerySet

SCORE_FIELDS = ("documentation", "telemetry", "cost", "responsiveness")


class Scorecard(models.Model):
    """An app's scores for one quarter, with the reasons and inputs behind each score.

    ``team`` is the app's team at the quarter's end (``scorecards.history``), so team
    roll-ups of past quarters do not move when an app changes hands. ``weights`` is the
    rubric's weights when scored.
    """

    app = models.ForeignKey(MicroApp, on_delete=models.PROTECT, related_name="scorecards")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="scorecards")
    quarter = models.CharField(max_length=7, help_text="e.g. 2026-Q4")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day of the quarter (inclusive).")
    documentation = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    telemetry = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    cost = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    responsiveness = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    overall = models.DecimalField(max_digits=4, decimal_places=1)
    grade = models.CharField(max_length=1, choices=Grade.choices, db_index=True)
    reasons = models.JSONField(default=dict, help_text="Dimension → list of reasons.")
    metrics = models.JSONField(default=dict, help_text="The inputs: days, requests, cost...")
    weights = models.JSONField(default=dict)
    rubric_version = models.PositiveSmallIntegerField(default=1)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = ScorecardQuerySet.as_manager()

    class Meta:
        ordering = ["-quarter", "app__name"]
        constraints = [
            models.UniqueConstraint(fields=["app", "quarter"], name="scorecard_one_per_quarter")
        ]
        indexes = [
            models.Index(fields=["quarter", "team"]),
            models.Index(fields=["quarter", "grade"]),
        ]

    def __str__(self) -> str:
        return f"{self.app} {self.quarter}: {self.grade} ({self.overall})"

    @property
    def scores(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in SCORE_FIELDS}
