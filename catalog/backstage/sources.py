"""Sync sources: catalog files Appkeeper pulls on a schedule, what a finished sync means
for the entities the source no longer lists, and retirement proposals for those that stay
gone.

A run (:func:`sync_source`) fetches outside any transaction (a slow host never holds a
lock), then queues an ordinary background import of everything it read, with the API
definitions it resolved, through ``jobs.import_start``: the engine does the rest.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import yaml
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog.backstage.fetch import FetchError
from catalog.backstage.locations import CollectError, Reader, collect, read_definition
from catalog.backstage.placeholders import placeholder
from catalog.choices import AppState
from catalog.models import BackstageEntity, BackstageSource, ImportJob, MicroApp, SyncStatus

logger = logging.getLogger(__name__)


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


def _claim(source_id: int, *, force: bool, now: datetime) -> BackstageSource | None:
    """The source, if this run may sync it now: enabled, not retired, due (unless forced),
    its last job finished, and no other run claimed it first. The claim moves
    ``last_checked_at`` from the value read to now, so of two concurrent runs one wins."""
    source = (
        BackstageSource.objects.select_related("created_by", "last_job")
        .filter(pk=source_id, retired_at__isnull=True)
        .first()
    )
    if source is None or (not force and not source.enabled):
        return None
    if source.last_job is not None and not source.last_job.finished:
        return None  # its import is still running: the next beat comes back
    recent = now - timedelta(minutes=source.interval_minutes)
    if not force and source.last_checked_at is not None and source.last_checked_at > recent:
        return None
    claimed = BackstageSource.objects.filter(
        pk=source.pk, last_checked_at=source.last_checked_at
    ).update(last_checked_at=now)
    if not claimed:
        return None
    source.last_checked_at = now
    return source


def sync_source(source_id: int, *, force: bool = False, now: datetime | None = None) -> str:
    """Fetch a source and queue its import; returns the status recorded, or "skipped"
    when another run holds it, it is not due, or it is disabled/retired."""
    from catalog.backstage.importer import TooManyEntities
    from catalog.backstage.jobs import import_start

    now = now or timezone.now()
    source = _claim(source_id, force=force, now=now)
    if source is None:
        return "skipped"
    update: dict[str, Any] = {"last_checked_at": now}
    try:
        collected = collect(
            source.url,
            token=source.token,
            etag=source.etag,
            last_modified=source.last_modified,
        )
    except CollectError as exc:
        # Nothing is flagged missing: a host that is down says nothing about the entities.
        update.update(last_status=SyncStatus.FAILED, last_error=str(exc)[:5000])
        BackstageSource.objects.filter(pk=source.pk).update(**update)
        return SyncStatus.FAILED
    if collected is None:
        update.update(last_status=SyncStatus.UNCHANGED, last_error="")
        BackstageSource.objects.filter(pk=source.pk).update(**update)
        return SyncStatus.UNCHANGED
    text = yaml.safe_dump_all(collected.docs, sort_keys=False, allow_unicode=True)
    try:
        job = import_start(
            user=source.created_by,
            text=text,
            dry_run=False,
            source=source,
            resolved=collected.resolved,
        )
    except (TooManyEntities, ValueError) as exc:
        update.update(last_status=SyncStatus.FAILED, last_error=f"Not imported: {exc}")
        BackstageSource.objects.filter(pk=source.pk).update(**update)
        return SyncStatus.FAILED
    notes = list(collected.warnings)
    notes += [
        f"{collected.docs[int(i)].get('metadata', {}).get('name', '?')}: {r['error']}"
        for i, r in collected.resolved.items()
        if "error" in r
    ]
    update.update(
        last_status=SyncStatus.OK,
        last_error="\n".join(notes)[:5000],
        last_files=collected.files,
        last_entities=len(collected.docs),
        last_job=job,
        # A root that names other files changes without its ETag changing when only those
        # files do: such a root is fetched whole every time.
        etag="" if collected.has_locations else collected.etag[:500],
        last_modified="" if collected.has_locations else collected.last_modified[:100],
    )
    BackstageSource.objects.filter(pk=source.pk).update(**update)
    return SyncStatus.OK


def sync_due(*, now: datetime | None = None) -> dict[str, int]:
    """Every enabled source whose interval has passed, one after the other; returns how
    many runs ended in each status."""
    now = now or timezone.now()
    due = (
        BackstageSource.objects.filter(enabled=True, retired_at__isnull=True)
        .order_by("last_checked_at", "pk")
        .values_list("pk", flat=True)
    )
    outcomes: dict[str, int] = {}
    for source_id in list(due):
        try:
            outcome = sync_source(source_id, now=now)
        except Exception:  # one source's bug must not stop the others
            logger.exception("Backstage source %s failed to sync", source_id)
            outcome = SyncStatus.FAILED
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def prepare_upload(job: ImportJob) -> int:
    """For an uploaded background import: resolve API definitions given as absolute URLs
    on the allowed hosts into ``job.resolved`` (relative ones have no file to be relative
    to). Saves the job; returns how many definitions were read."""
    from catalog.backstage.importer import parse_documents

    docs = parse_documents(job.document)
    reader = Reader()
    resolved = dict(job.resolved or {})
    read = 0
    for index, doc in enumerate(docs):
        spec = doc.get("spec")
        if str(doc.get("kind", "")).lower() != "api" or not isinstance(spec, dict):
            continue
        found = placeholder(spec.get("definition"))
        if found is None or urlsplit(found[1]).scheme not in ("http", "https"):
            continue
        key, url = found
        try:
            definition = read_definition(key, url, reader)
            # An upload has no file of its own: the entity's location stays empty.
            resolved[str(index)] = {"definition": definition}
            read += 1
        except FetchError as exc:
            resolved[str(index)] = {"error": str(exc)}
    job.resolved = resolved
    job.save(update_fields=["resolved", "updated_at"])
    return read


def propose_missing_retirements(*, now: datetime | None = None) -> int:
    """Open a sunset case for each live app whose entity has been missing from its source
    for longer than ``APPKEEPER_BACKSTAGE_MISSING_GRACE_DAYS``, once per disappearance
    (a case already opened since it went missing, even closed, is not opened again)."""
    from lifecycle.choices import SunsetReason
    from lifecycle.models import SunsetCase
    from lifecycle.services.common import lock_rows
    from lifecycle.services.sunset import open_cases_for

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.APPKEEPER_BACKSTAGE_MISSING_GRACE_DAYS)
    already = SunsetCase.objects.filter(
        app=OuterRef("app"),
        reason=SunsetReason.BACKSTAGE_REMOVED,
        opened_at__gte=OuterRef("missing_since"),
    )
    entities = {
        e.app_id: e
        for e in BackstageEntity.objects.filter(
            missing_since__lte=cutoff,
            app__isnull=False,
            app__state__in=[AppState.ACTIVE, AppState.EXPIRED],
        )
        .exclude(Exists(already))
        .select_related("source")
    }
    if not entities:
        return 0

    def figures(app: MicroApp) -> dict[str, Any]:
        entity = entities[app.pk]
        assert entity.missing_since is not None
        source = entity.source.name if entity.source else "an upload"
        return {
            "entity": entity.ref,
            "source": source,
            "missing_since": entity.missing_since.isoformat(),
            "why": (
                f"{entity.ref} was removed from Backstage source {source} on "
                f"{entity.missing_since:%d %b %Y} and has not come back."
            ),
        }

    with transaction.atomic():
        apps = lock_rows(
            MicroApp.objects.filter(
                pk__in=list(entities), state__in=[AppState.ACTIVE, AppState.EXPIRED]
            )
        )
        if not apps:
            return 0
        return open_cases_for(apps, reason=SunsetReason.BACKSTAGE_REMOVED, now=now, figures=figures)
