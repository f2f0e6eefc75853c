"""What core records for every app: one row per Celery task run, and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
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


class ApiTokenQuerySet(models.QuerySet):
    def active(self, now: datetime | None = None) -> ApiTokenQuerySet:
        """Tokens that authenticate: neither revoked nor past their expiry."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())

    def expiring_within(self, days: int, now: datetime | None = None) -> ApiTokenQuerySet:
        now = now or timezone.now()
        return self.active(now).filter(expires_at__lte=now + timedelta(days=days))


class ApiToken(models.Model):
    """A named API token of one user. Only the SHA-256 of its secret is stored.

    The secret is ``apk_`` and 43 random URL-safe characters (256 bits) and is shown once,
    when it is issued (``core.tokens.issue``). A random secret of that size needs no slow
    hash or salt: nobody can guess their way to a preimage, and a plain digest lets the
    authentication look the row up by an index instead of comparing secrets one by one.
    ``prefix`` (the first characters of the secret) is not secret and lets a person tell
    their tokens apart in a list or a log. Tokens are never deleted: revoking sets
    ``revoked_at``, and the row stays as the record of what existed and when it was used.
    """

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    NAME_MAX = 64

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=NAME_MAX)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = "API token"
        constraints = [
            # The name tells a person's tokens apart, so two live ones may not share it.
            # Expiry cannot be part of a constraint; issuing retires an expired namesake.
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="apitoken_unique_live_name",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created"], name="apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def state_at(self, now: datetime) -> str:
        # A token retired after it had expired anyway (its name was reused) reads expired.
        if self.revoked_at is not None and self.revoked_at < self.expires_at:
            return self.State.REVOKED
        if self.expires_at <= now:
            return self.State.EXPIRED
        return self.State.ACTIVE

    @property
    def state(self) -> str:
        return self.state_at(timezone.now())
