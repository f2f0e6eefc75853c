"""Background Backstage imports: the uploaded catalog, who sent it, and how far it got."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def empty_report() -> dict:
    """The report of a job that has not taken any entity yet."""
    return {
        "errors": [],
        "warnings": [],
        "warnings_total": 0,
        "apps": [],
        "skipped_kinds": {},
        # One line per entity taken, up to APPKEEPER_BACKSTAGE_REPORT_ENTITIES: {"kind",
        # "ref", "action" (created/updated/unchanged/skipped/error), "warnings", "errors"}.
        "entities": [],
    }


class ImportJobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> ImportJobQuerySet:
        """The importer's own jobs, their teams' scoped jobs; every job for the platform team.
        Anyone else's job answers 404, like one that does not exist."""
        from catalog import permissions

        if not permissions.is_signed_in(user):
            return self.none()
        if permissions.is_platform(user):
            return self
        return self.filter(Q(created_by=user) | Q(team_id__in=permissions.team_ids(user)))

    def unfinished(self) -> ImportJobQuerySet:
        return self.filter(state__in=[ImportJobState.QUEUED, ImportJobState.RUNNING])


class ImportJob(models.Model):
    """One background import of a ``catalog-info.yaml``, processed in chunks by a task.

    ``processed`` counts entities finished, in the order the task takes them (Components,
    then API entities, then the kinds that are skipped); each chunk's writes and the
    advance of ``processed`` commit together, so a crash resumes exactly where the last
    chunk ended. ``document`` is kept until the job finishes, then emptied.
    """

    COUNTS = ("created", "updated", "unchanged", "skipped", "errors")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Optional scope: the team's members see the job, and Components owned by any other
    # team are refused.
    team = models.ForeignKey(
        "catalog.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set for a scheduled sync: entities of the source that the run no longer lists are
    # flagged missing when the job finishes.
    source = models.ForeignKey(
        "catalog.BackstageSource",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobs",
    )
    dry_run = models.BooleanField(default=False)
    state = models.CharField(
        max_length=10, choices=ImportJobState.choices, default=ImportJobState.QUEUED
    )
    document = models.TextField(blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # Bounded: errors and warnings up to REPORT_LIMIT entries, skipped kinds as counts, the
    # written apps up to REPORT_LIMIT slugs; plus the task's bookkeeping between chunks.
    report = models.JSONField(default=empty_report, blank=True)
    # Between chunks: dependencies on Components later in the file, and which API-providing
    # Components this job wrote. Emptied when the job finishes.
    resume = models.JSONField(default=dict, blank=True)
    # What was read beside each entity, by its index in ``document`` (as a string): the
    # file it came from (``location``), and an API's definition once its ``$text``/``$json``
    # /``$yaml`` placeholder was fetched (``definition``) or why not (``error``). Filled
    # before the first chunk, outside any transaction: fetching never holds a lock.
    resolved = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Moves with every committed chunk: a job that stops moving has lost its worker.
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"]),
            models.Index(fields=["state", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.state}, {self.processed}/{self.total})"

    @property
    def finished(self) -> bool:
        return self.state in (ImportJobState.SUCCEEDED, ImportJobState.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.processed * 100 // self.total)
