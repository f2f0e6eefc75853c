"""Record every Celery task run as a JobRun row, from Celery's own task signals.

The operations page and ``/metrics`` answer "did last night's expiry job run, and did it
succeed?" from these rows, whichever app defines the task. Connected once from
``CatalogConfig.ready()``.

1. ``task_prerun``: insert a ``running`` row and remember its id for this task id.
2. ``task_success`` / ``task_failure``: update that row with outcome, error and duration.
3. After each finished run, delete the task's runs older than the newest ``JobRun.HISTORY``.

Recording is best-effort: a database hiccup here is logged and never fails the task.
Eager runs (tests, ``CELERY_TASK_ALWAYS_EAGER``) are not recorded unless
``RECORD_EAGER`` is set, so that inline tasks do not add queries to the request running
them.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import Any

from celery import signals
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)

RECORD_EAGER = False

_current_task: ContextVar[str] = ContextVar("appkeeper_task", default="")
# task id -> (JobRun pk, monotonic start). A worker runs a task's signals in one process.
_running: dict[str, tuple[int, float]] = {}


def current_task_name() -> str:
    """The Celery task running in this context, for log records ("" outside tasks)."""
    return _current_task.get()


def _should_record(task: object) -> bool:
    request = getattr(task, "request", None)
    return RECORD_EAGER or not getattr(request, "is_eager", False)


@signals.task_prerun.connect(dispatch_uid="appkeeper-jobrun-prerun")
def _on_prerun(
    sender: object = None, task_id: str | None = None, task: object = None, **kwargs: Any
) -> None:
    task = task or sender
    name = getattr(task, "name", None) or str(sender)
    _current_task.set(name)
    if not _should_record(task):
        return
    from core.models import JobRun

    try:
        run = JobRun.objects.create(task=name, task_id=task_id or "")
    except Exception:
        logger.exception("Could not record the start of task %s", name)
        return
    _running[task_id or ""] = (run.pk, time.monotonic())


def _finish(task: object, task_id: str, outcome: str, error: str = "") -> None:
    from core.models import JobRun

    name = getattr(task, "name", None) or str(task)
    entry = _running.pop(task_id or "", None)
    if entry is None:
        return
    pk, started = entry
    duration_ms = int((time.monotonic() - started) * 1000)
    try:
        JobRun.objects.filter(pk=pk).update(
            finished_at=timezone.now(),
            outcome=outcome,
            error=error[:10_000],
            duration_ms=duration_ms,
        )
        prune(name)
    except Exception:
        logger.exception("Could not record the end of task %s", name)


def prune(task_name: str, keep: int | None = None) -> int:
    """Delete the runs of ``task_name`` beyond the newest ``keep``; two indexed queries."""
    from core.models import JobRun

    keep = JobRun.HISTORY if keep is None else keep
    cutoff = list(
        JobRun.objects.filter(task=task_name)
        .order_by("-started_at", "-pk")
        .values_list("started_at", "pk")[keep : keep + 1]
    )
    if not cutoff:
        return 0
    started, pk = cutoff[0]
    older = Q(started_at__lt=started) | Q(started_at=started, pk__lte=pk)
    deleted, _ = JobRun.objects.filter(older, task=task_name).delete()
    return deleted


@signals.task_success.connect(dispatch_uid="appkeeper-jobrun-success")
def _on_success(sender: object = None, **kwargs: Any) -> None:
    request = getattr(sender, "request", None)
    _finish(sender, getattr(request, "id", "") or "", "success")


@signals.task_failure.connect(dispatch_uid="appkeeper-jobrun-failure")
def _on_failure(
    sender: object = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    **kwargs: Any,
) -> None:
    error = f"{exception.__class__.__name__}: {exception}" if exception is not None else ""
    _finish(sender, task_id or "", "failure", error)


@signals.task_postrun.connect(dispatch_uid="appkeeper-jobrun-postrun")
def _on_postrun(
    sender: object = None, task_id: str | None = None, state: str | None = None, **kwargs: Any
) -> None:
    # A retried or revoked task gets neither success nor failure; close its row here.
    if task_id in _running:
        _finish(sender, task_id, "failure", f"ended in state {state}")
    _current_task.set("")
