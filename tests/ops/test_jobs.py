"""Every Celery task run is recorded as a JobRun, with a bounded history per task."""

from __future__ import annotations

import pytest
from celery import shared_task

from core import jobs
from core.models import JobRun

pytestmark = pytest.mark.django_db


@shared_task(name="tests.ops.succeed")
def succeed():
    return "ok"


@shared_task(name="tests.ops.explode")
def explode():
    raise RuntimeError("the database went away")


@pytest.fixture
def record_eager(monkeypatch):
    monkeypatch.setattr(jobs, "RECORD_EAGER", True)


def test_a_successful_run_is_recorded_with_its_duration(record_eager):
    succeed.delay()
    run = JobRun.objects.get(task="tests.ops.succeed")
    assert run.outcome == JobRun.Outcome.SUCCESS
    assert run.finished_at is not None
    assert run.duration_ms is not None and run.duration_ms >= 0
    assert run.task_id


def test_a_failed_run_keeps_the_error(record_eager, settings):
    from config.celery import app

    app.conf.task_eager_propagates = False
    try:
        explode.delay()
    finally:
        app.conf.task_eager_propagates = True
    run = JobRun.objects.get(task="tests.ops.explode")
    assert run.outcome == JobRun.Outcome.FAILURE
    assert "RuntimeError: the database went away" in run.error


def test_eager_runs_are_not_recorded_by_default():
    succeed.delay()
    assert not JobRun.objects.exists()


def test_history_is_bounded_per_task(record_eager):
    for _ in range(JobRun.HISTORY + 5):
        succeed.delay()
    JobRun.objects.create(task="other.task", outcome="success")
    assert JobRun.objects.filter(task="tests.ops.succeed").count() == JobRun.HISTORY
    assert JobRun.objects.filter(task="other.task").count() == 1


def test_prune_keeps_the_newest_runs():
    for _ in range(5):
        JobRun.objects.create(task="t", outcome="success")
    newest = list(JobRun.objects.filter(task="t").values_list("pk", flat=True)[:2])
    assert jobs.prune("t", keep=2) == 3
    assert sorted(JobRun.objects.filter(task="t").values_list("pk", flat=True)) == sorted(newest)
