"""Sync sources: catalog files Appkeeper pulls on a schedule, and what a finished sync
means for the entities the source no longer lists."""

from __future__ import annotations

from django.db.models import Q

from catalog.models import BackstageEntity, ImportJob


def sync_finished(job: ImportJob) -> int:
    """After a sync of ``job.source``: flag its entities the run did not see (they were
    last seen before the run started) as missing since now; returns how many were newly
    flagged. Called in the transaction that marks the job finished."""
    if job.source_id is None or job.dry_run or job.started_at is None:
        return 0
    return (
        BackstageEntity.objects.filter(source_id=job.source_id, missing_since__isnull=True)
        .filter(Q(last_seen_at__lt=job.started_at))
        .update(missing_since=job.finished_at or job.updated_at)
    )
