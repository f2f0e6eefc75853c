"""What core records for every app: one row per Celery task run."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class JobRun(models.Model):
    """One run of a Celery task: when it started and finished, how it ended, and why it failed.

    Written by the task signals in ``core/jobs.py`` (one insert and one update per run);
    the operations page and ``/metrics`` read the latest runs per task. Only the newest
    ``HISTORY`` runs of each task are kept, so a job beating every minute stays cheap.
    """

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Succeeded"
        FAILURE = "failure", "Failed"

    HISTORY = 50

    task = models.CharField(max_length=200)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["task", "-started_at"], name="jobrun_task_started"),
            models.Index(fields=["task_id"], name="jobrun_task_id"),
        ]

    def __str__(self) -> str:
        outcome = self.get_outcome_display().lower()
        return f"{self.task} {outcome} at {self.started_at:%Y-%m-%d %H:%M}"
