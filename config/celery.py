"""The Celery app and the one place every periodic schedule lives."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init, worker_process_init

from config.otel import configure_tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("appkeeper")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect(weak=False)
def _trace_pool_process(**kwargs: object) -> None:
    """Start tracing in each prefork child, after the fork: the exporter's thread would not
    survive it if the parent started it. No-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set."""
    configure_tracing("appkeeper-worker")


@worker_init.connect(weak=False)
def _trace_in_process_pool(sender: object, **kwargs: object) -> None:
    """The threads pool (``make run``), gevent and eventlet run tasks in the worker process
    itself and never send worker_process_init, so start tracing here for them."""
    from celery.concurrency import get_implementation
    from celery.concurrency.prefork import TaskPool as PreforkPool

    if not issubclass(get_implementation(sender.pool_cls), PreforkPool):  # type: ignore[attr-defined]
        configure_tracing("appkeeper-worker")


# Times are UTC. Deadlines (reminders, expiry, the end of a sunset case's grace) are checked
# hourly so each fires within the hour it falls due; those jobs are query-flat, so an idle
# hour costs a handful of queries. The usage review and housekeeping run daily, early in
# the morning. Every job is safe to run twice or concurrently, and one that catches up
# after an outage sends what fell due meanwhile, so a missed or doubled beat is harmless.
app.conf.beat_schedule = {
    "escalate-overdue-reviews": {
        "task": "catalog.escalate_overdue_reviews",
        "schedule": crontab(minute=5),
    },
    "send-notifications": {
        "task": "catalog.send_notifications",
        "schedule": 60.0,
    },
    # A scheduled version is current from its effective_at whatever this job does (reads
    # compare the time); the job records the moment and tells the dependents, so a few
    # minutes late is fine.
    "activate-scheduled-contracts": {
        "task": "catalog.activate_scheduled_contracts",
        "schedule": 300.0,
    },
    "resume-import-jobs": {
        "task": "catalog.resume_import_jobs",
        "schedule": 60.0,
    },
    # Each source has its own interval; this only looks for the ones that are due.
    "sync-backstage-sources": {
        "task": "catalog.sync_backstage_sources",
        "schedule": 300.0,
    },
    "propose-backstage-retirements": {
        "task": "catalog.propose_backstage_retirements",
        "schedule": crontab(hour=6, minute=40),
    },
    "send-expiry-reminders": {
        "task": "lifecycle.send_expiry_reminders",
        "schedule": crontab(minute=0),
    },
    # Digests go out at APPKEEPER_DIGEST_HOUR in each person's own time zone: every hour is
    # that hour somewhere. A missed run is caught up by the next (held rows stay due).
    "send-digests": {
        "task": "messaging.send_digests",
        "schedule": crontab(minute=0),
    },
    "send-token-expiry-reminders": {
        "task": "lifecycle.send_token_expiry_reminders",
        "schedule": crontab(hour=6, minute=5),
    },
    "expire-apps": {
        "task": "lifecycle.expire_apps",
        "schedule": crontab(minute=10),
    },
    "open-sunset-cases": {
        "task": "lifecycle.open_sunset_cases",
        "schedule": crontab(hour=6, minute=30),
    },
    "close-sunset-cases": {
        "task": "lifecycle.close_sunset_cases",
        "schedule": crontab(minute=20),
    },
    "prune-telemetry-deliveries": {
        "task": "lifecycle.prune_telemetry_deliveries",
        "schedule": crontab(hour=7, minute=0),
    },
    "compute-quarterly-scorecards": {
        "task": "scorecards.compute_quarterly_scorecards",
        # First day of each quarter, for the quarter that just ended.
        "schedule": crontab(hour=2, minute=0, day_of_month=1, month_of_year="1,4,7,10"),
    },
}
