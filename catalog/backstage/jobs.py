"""Backstage imports in the background: catalogs too large to import within a request.

1. :func:`import_start` parses and shape-checks the upload in the request (a malformed
   file is still a 400), stores it as a queued :class:`ImportJob` and enqueues the task
   once that commits.
2. The task calls :func:`import_run`, which takes the job in chunks (:func:`import_chunk`):
   each chunk locks the job row, imports up to ``CHUNK_SIZE`` entities, each in a
   savepoint of its own, and advances the counts in the same transaction. Two workers
   never process the same chunk (the row lock; ``SKIP LOCKED`` on PostgreSQL, the
   ``BEGIN IMMEDIATE`` transaction on SQLite), and a worker that dies mid-chunk leaves the
   job exactly at the last committed chunk, resumed by the redelivered task or the
   every-minute sweep (:func:`import_resume_stalled`).
3. Unlike a synchronous import, a background import is not all or nothing: every entity
   that passes is written and the others are reported (run a dry run first to see them
   all; each of its entities is rolled back on its own). Entities are taken by the same
   per-entity steps as the synchronous import (``engine``), in the same order: Groups,
   Users, Components, APIs, then every other kind.

The report stays small whatever the catalog's size: errors and warnings up to
``REPORT_LIMIT`` entries, skipped kinds as counts, written apps up to ``REPORT_LIMIT``,
one line per entity up to ``APPKEEPER_BACKSTAGE_REPORT_ENTITIES``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.backstage import engine
from catalog.backstage.importer import (
    EntityResult,
    ImportRejected,
    ImportReport,
    check_shapes,
    count_skipped_kind,
    parse_documents,
    scan_documents,
)
from catalog.backstage.sources import prepare_upload, sync_finished
from catalog.models import ImportJob, ImportJobState, Team
from catalog.models.imports import empty_report

logger = logging.getLogger(__name__)

CHUNK_SIZE = 50
REPORT_LIMIT = 100
# One task run hands over to a fresh one after this long, well inside the task time limit.
RUN_SECONDS = 120
# A queued or running job whose counts have not moved for this long has lost its worker.
STALLED_AFTER = timedelta(minutes=5)
# Unfinished jobs per importer: each keeps its document (up to 10 MB) until it finishes.
MAX_UNFINISHED = 3


class TooManyJobs(Exception):
    """The importer already has ``MAX_UNFINISHED`` jobs queued or running."""

    def __init__(self) -> None:
        super().__init__(
            f"You already have {MAX_UNFINISHED} imports queued or running; "
            "start another once one of them has finished."
        )


def import_start(
    *,
    user: Any,
    text: str,
    dry_run: bool,
    team: Team | None = None,
    source: Any = None,
    resolved: dict | None = None,
) -> ImportJob:
    """Queue a background import; raises ``TooManyEntities``, ``ValueError`` (unreadable
    YAML) or :class:`TooManyJobs`. Only the stream is scanned here, which is several times
    cheaper than building it: the worker builds the entities and checks their shapes
    before the first write."""
    total = scan_documents(text, limit=settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND)
    # A sync source runs one job at a time on its own (see sources.sync_source).
    unfinished = ImportJob.objects.unfinished().filter(created_by=user)
    if source is None and unfinished.count() >= MAX_UNFINISHED:
        raise TooManyJobs
    with transaction.atomic():
        job = ImportJob.objects.create(
            created_by=user,
            team=team,
            dry_run=dry_run,
            document=text,
            size_bytes=len(text.encode("utf-8")),
            total=total,
            source=source,
            resolved=resolved or {},
        )
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_id: int) -> None:
    from catalog.tasks import run_import_job

    try:
        run_import_job.delay(job_id)
    except Exception:  # the broker is down: the every-minute sweep starts it later
        logger.warning("Could not enqueue catalog.run_import_job for job %s", job_id, exc_info=True)


@dataclass
class Plan:
    """The parsed document and the order its entities are taken in; the same on every run,
    so ``processed`` always points at the same entity."""

    docs: list[dict]
    order: list[int]
    # Every entity's reference: a dry run, which rolls each entity back, counts an owner
    # or a target in the batch as present.
    refs: frozenset[str]
    provided: frozenset[str]

    @classmethod
    def load(cls, text: str) -> Plan:
        """Raises ``ValueError`` or :class:`ImportRejected` (misshapen entities)."""
        docs = parse_documents(text)
        check_shapes(docs, ImportReport(dry_run=True))
        return cls(docs, engine.ordered(docs), engine.refs(docs), engine.provided(docs))


def import_run(job_id: int, *, seconds: float = RUN_SECONDS) -> str:
    """Process chunks until the job is done or ``seconds`` have passed (then hand over to a
    fresh task). Returns what happened: done, continued, idle or failed."""
    deadline = time.monotonic() + seconds
    plan: Plan | None = None
    prepare(job_id)
    while True:
        try:
            outcome, plan = import_chunk(job_id, plan)
        except Exception as exc:
            # The chunk rolled back whole; the job says why it stopped, and what earlier
            # chunks wrote stays (each app complete).
            logger.exception("Backstage import job %s failed", job_id)
            fail(job_id, f"{exc.__class__.__name__}: {exc}")
            return "failed"
        if outcome != "more":
            return outcome
        if time.monotonic() > deadline:
            enqueue(job_id)
            return "continued"


def prepare(job_id: int) -> None:
    """Before an uploaded job's first chunk, fetch the API definitions it names by absolute
    URL on the allowed hosts (a sync source's job arrives with them). The network is read
    here, outside any transaction, once per job."""
    if not settings.APPKEEPER_BACKSTAGE_ALLOWED_HOSTS:
        return
    job = ImportJob.objects.filter(
        pk=job_id, state=ImportJobState.QUEUED, processed=0, source__isnull=True
    ).first()
    if job is None or (job.resume or {}).get("prepared"):
        return
    # Unreadable: the first chunk fails the job and says why.
    with contextlib.suppress(ValueError, ImportRejected):
        prepare_upload(job)
    job.resume = {**(job.resume or {}), "prepared": True}
    job.save(update_fields=["resume"])


def fail(job_id: int, reason: str) -> None:
    ImportJob.objects.filter(pk=job_id).exclude(state=ImportJobState.SUCCEEDED).update(
        state=ImportJobState.FAILED,
        failure=reason[:2000],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
        document="",
        resume={},
    )


def refuse(job: ImportJob, refused: Exception) -> None:
    """The document cannot be imported at all (a value YAML cannot build, misshapen
    entities): the job fails before anything is written, naming each entity's problem."""
    if isinstance(refused, ImportRejected):
        wrong = [e for e in refused.report.entities if e.errors]
        job.report["errors"] = [
            {"kind": e.kind, "name": e.name, "errors": e.errors[:20]} for e in wrong[:REPORT_LIMIT]
        ]
        job.errors = len(wrong)
        job.failure = f"{len(wrong)} entities are wrongly shaped; nothing was imported."
    else:
        job.failure = f"The file cannot be read: {refused}"
    job.state = ImportJobState.FAILED
    job.started_at = job.started_at or timezone.now()
    job.finished_at = job.updated_at = timezone.now()
    job.document, job.resume = "", {}
    job.save()


def import_chunk(job_id: int, plan: Plan | None = None) -> tuple[str, Plan | None]:
    """Import the next chunk of the job in one transaction; ``("more", plan)`` while
    entities remain, ``("done", plan)`` once the job finished, ``("idle", None)`` when
    there is nothing to do here (finished, unknown, or another worker holds it)."""
    now = timezone.now()
    with transaction.atomic():
        job = (
            ImportJob.objects.unfinished()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("created_by", "team")
            .filter(pk=job_id)
            .first()
        )
        if job is None:
            return "idle", None
        if plan is None:
            try:
                plan = Plan.load(job.document)
            except (ValueError, ImportRejected) as refused:
                refuse(job, refused)
                return "done", None
        if job.state == ImportJobState.QUEUED:
            job.state, job.started_at = ImportJobState.RUNNING, now
            job.total = len(plan.order)  # the scan's count, now from the entities themselves
        chunk = Chunk(job, plan)
        start = job.processed
        end = min(start + CHUNK_SIZE, len(plan.order))
        for position in range(start, end):
            chunk.take(plan.order[position])
        job.processed = end
        job.updated_at = timezone.now()
        if job.processed >= job.total:
            job.state, job.finished_at = ImportJobState.SUCCEEDED, job.updated_at
            job.document, job.resume = "", {}
            sync_finished(job)
        job.save()
    return ("done" if job.finished else "more"), plan


class Chunk:
    """Imports entities for one job, recording each outcome on the job (saved by the
    caller, with the chunk)."""

    def __init__(self, job: ImportJob, plan: Plan) -> None:
        self.job, self.plan = job, plan
        self.report = job.report or empty_report()
        self.report.setdefault("entities", [])
        job.report = self.report
        self.batch = engine.Batch(
            user=job.created_by,
            request=SimpleNamespace(user=job.created_by),  # the serializer asks for request.user
            dry_run=job.dry_run,
            scope=job.team,
            source=job.source,
            resolved=job.resolved or {},
            refs=plan.refs,
            provided=plan.provided,
        )

    def take(self, index: int) -> None:
        doc = self.plan.docs[index]
        result = engine.take(self.batch, doc, index, isolate=self.job.dry_run)
        count_skipped_kind(doc, self.report["skipped_kinds"])
        app = result.app
        if app is not None and len(self.report["apps"]) < REPORT_LIMIT:
            self.report["apps"].append(
                {"slug": app.slug, "name": app.name, "action": result.action}
            )
        self.record(result)

    def record(self, result: EntityResult) -> None:
        if len(self.report["entities"]) < settings.APPKEEPER_BACKSTAGE_REPORT_ENTITIES:
            self.report["entities"].append(
                {
                    "kind": result.kind,
                    "ref": result.ref,
                    "action": result.action,
                    "warnings": result.warnings[:20],
                    "errors": result.errors[:20],
                }
            )
        counter = "errors" if result.errors or result.action in ("", "error") else result.action
        setattr(self.job, counter, getattr(self.job, counter) + 1)
        if result.errors and len(self.report["errors"]) < REPORT_LIMIT:
            self.report["errors"].append(
                {"kind": result.kind, "name": result.name, "errors": result.errors[:20]}
            )
        for warning in result.warnings:
            self.report["warnings_total"] += 1
            if len(self.report["warnings"]) < REPORT_LIMIT:
                self.report["warnings"].append(
                    {"kind": result.kind, "name": result.name, "warning": warning}
                )


def import_resume_stalled() -> int:
    """Enqueue unfinished jobs that stopped moving (their worker died, or the broker was
    down when they were queued); running one twice is harmless. Returns how many."""
    stalled = list(
        ImportJob.objects.unfinished()
        .filter(updated_at__lt=timezone.now() - STALLED_AFTER)
        .values_list("pk", flat=True)[:100]
    )
    for job_id in stalled:
        enqueue(job_id)
    return len(stalled)
