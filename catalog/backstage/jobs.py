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
   all). Components are taken first, then API entities, then the kinds that are skipped.

The report stays small whatever the catalog's size: errors and warnings up to
``REPORT_LIMIT`` entries, skipped kinds as counts, written apps up to ``REPORT_LIMIT``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog import permissions
from catalog.backstage.importer import (
    EntityResult,
    ImportRejected,
    ImportReport,
    api_definition,
    api_version,
    check_shapes,
    entity_kind,
    import_api,
    import_component,
    parse_documents,
    ref_name,
    scan_documents,
    slugify,
)
from catalog.backstage.sources import sync_finished
from catalog.models import ImportJob, ImportJobState, MicroApp, Team
from catalog.models.imports import empty_report
from contracts import ContractError, load_document, validate_contract

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
    supported: int  # the first ``supported`` of ``order`` are Components and APIs
    component_slugs: set[str] = field(default_factory=set)
    # API name -> the Components in this file that provide it.
    providers: dict[str, list[str]] = field(default_factory=dict)
    # Components some API entity of this file belongs to: the job remembers which it wrote.
    api_owner_slugs: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, text: str) -> Plan:
        """Raises ``ValueError`` or :class:`ImportRejected` (misshapen entities)."""
        docs = parse_documents(text)
        check_shapes(docs, ImportReport(dry_run=True))
        kinds = [entity_kind(d).lower() for d in docs]
        components = [i for i, k in enumerate(kinds) if k == "component"]
        apis = [i for i, k in enumerate(kinds) if k == "api"]
        others = [i for i, k in enumerate(kinds) if k not in ("component", "api")]
        plan = cls(docs, components + apis + others, len(components) + len(apis))
        for i in components:
            slug = slugify(str((docs[i].get("metadata") or {}).get("name", "")))
            plan.component_slugs.add(slug)
            for ref in (docs[i].get("spec") or {}).get("providesApis") or []:
                plan.providers.setdefault(ref_name(ref, "api")[1], []).append(slug)
        for i in apis:
            plan.api_owner_slugs.update(
                plan.api_owners(str((docs[i].get("metadata") or {}).get("name")))
            )
        return plan

    def api_owners(self, name: str) -> list[str]:
        if name in self.providers:
            return self.providers[name]
        return [slugify(name)] if slugify(name) in self.component_slugs else []


def import_run(job_id: int, *, seconds: float = RUN_SECONDS) -> str:
    """Process chunks until the job is done or ``seconds`` have passed (then hand over to a
    fresh task). Returns what happened: done, continued, idle or failed."""
    deadline = time.monotonic() + seconds
    plan: Plan | None = None
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
        end = min(start + CHUNK_SIZE, plan.supported) if start < plan.supported else len(plan.order)
        for position in range(start, end):
            chunk.take(plan.docs[plan.order[position]])
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
        self.user = job.created_by
        self.request = SimpleNamespace(user=self.user)  # the serializer asks for request.user
        self.report = job.report or empty_report()
        job.report = self.report
        self.resume = job.resume or {}
        job.resume = self.resume

    def take(self, doc: dict) -> None:
        kind = entity_kind(doc)
        name = str((doc.get("metadata") or {}).get("name", "")) or "?"
        if kind.lower() == "component":
            self.record(self.component(doc, EntityResult("Component", name)))
        elif kind.lower() == "api":
            self.record(self.api(doc, EntityResult("API", name)))
        else:
            skipped = self.report["skipped_kinds"]
            skipped[kind] = skipped.get(kind, 0) + 1
            self.job.skipped += 1

    def component(self, doc: dict, result: EntityResult) -> EntityResult:
        with transaction.atomic():
            app = import_component(
                doc, result, user=self.user, request=self.request, scope=self.job.team
            )
            if app is not None:
                self.link(app, doc, result)
            if self.job.dry_run:
                transaction.set_rollback(True)
        if app is not None:
            if app.slug in self.plan.api_owner_slugs:
                self.resume.setdefault("written", []).append(app.slug)
            if len(self.report["apps"]) < REPORT_LIMIT:
                self.report["apps"].append(
                    {"slug": app.slug, "name": app.name, "action": result.action}
                )
        return result

    def link(self, app: MicroApp, doc: dict, result: EntityResult) -> None:
        """``dependsOn`` of ``app``: apps the importer may see now, or Components later in
        this file (linked when they are written; a dry run counts them as found)."""
        pending: dict[str, list[str]] = self.resume.setdefault("pending", {})
        catalog = MicroApp.objects.visible_to(self.user)
        targets = []
        for ref in (doc.get("spec") or {}).get("dependsOn") or []:
            kind, name = ref_name(ref, "component")
            if kind != "component":
                result.warnings.append(f"dependsOn {ref}: only apps (Components) are tracked.")
                continue
            slug = slugify(name)
            target = catalog.filter(slug=slug).first()
            if target is not None:
                targets.append(target)
            elif slug in self.plan.component_slugs:
                pending.setdefault(slug, []).append(app.slug)
            else:
                result.warnings.append(f"Dangling reference {ref}: no such app, not linked.")
        if targets:
            app.depends_on.add(*targets)
        waiting = pending.pop(app.slug, None)
        if waiting and not self.job.dry_run:
            through = MicroApp.depends_on.through
            sources = MicroApp.objects.filter(slug__in=waiting).values_list("pk", flat=True)
            through.objects.bulk_create(
                [through(from_microapp_id=pk, to_microapp_id=app.pk) for pk in sources],
                ignore_conflicts=True,
            )

    def api(self, doc: dict, result: EntityResult) -> EntityResult:
        written = set(self.resume.get("written", []))
        slugs = self.plan.api_owners(result.name)
        missing = [s for s in slugs if s not in written]
        if slugs and missing:
            result.action = "skipped"
            result.warnings.append(
                f"Its Component {', '.join(missing)} was not imported; the API is not either."
            )
            return result
        owners = list(
            MicroApp.objects.filter(slug__in=slugs).select_related("team").order_by("slug")
        )
        owners = [app for app in owners if permissions.can_edit(self.user, app)]
        if self.job.dry_run and slugs and not owners:
            return self.check_definition(doc, result)  # the Components were not kept
        with transaction.atomic():
            import_api(doc, result, owners, user=self.user)
            if self.job.dry_run:
                transaction.set_rollback(True)
        return result

    def check_definition(self, doc: dict, result: EntityResult) -> EntityResult:
        """A dry run's API of Components that would be created: validate the definition
        alone, as the upload would."""
        found = api_definition(doc, result)
        if found is None or api_version(doc, result) is None:
            return result
        try:
            validation = validate_contract(load_document(found[0], found[1]))
        except ContractError as exc:
            errors = exc.errors
        else:
            errors = validation.errors
        if errors:
            result.action = "error"
            result.errors.extend({"field": e["path"], "message": e["message"]} for e in errors[:20])
        else:
            result.action = "created"
        return result

    def record(self, result: EntityResult) -> None:
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
