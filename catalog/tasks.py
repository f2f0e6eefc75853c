"""Celery tasks of the registry: thin wrappers over ``catalog.services`` (schedules live in
``config/celery.py``). Each is safe to run twice or on two workers at once."""

from __future__ import annotations

from celery import shared_task

from catalog import breaking_services, notifications, services
from catalog.backstage import jobs as backstage_jobs


@shared_task(name="catalog.escalate_overdue_reviews")
def escalate_overdue_reviews() -> int:
    """Hourly: escalate reviews past their due time to the platform team, each once."""
    return services.reviews_escalate_overdue()


@shared_task(name="catalog.send_notifications")
def send_notifications(batches: int = 20) -> dict:
    """Every minute: drain the Notification outbox (email and signed team webhooks).

    1. Claim a batch of due rows (leased, so two workers never send the same one).
    2. Deliver it, recording each row's outcome as soon as it is sent (a worker killed
       mid-batch repeats at most the message in flight); failures are retried later with
       exponential backoff.
    3. Repeat while batches come back full, at most ``batches`` times per run, so one run
       stays well inside the task time limit and the next beat picks up the rest.
    """
    total = notifications.SendResult()
    for _ in range(batches):
        result = notifications.send_pending()
        for field in ("claimed", "sent", "failed", "gave_up"):
            setattr(total, field, getattr(total, field) + getattr(result, field))
        if result.claimed < notifications.BATCH_SIZE:
            break
    return vars(total)


@shared_task(name="catalog.run_import_job")
def run_import_job(job_id: int) -> str:
    """A background Backstage import: chunks until done, or a fresh task after a while."""
    return backstage_jobs.import_run(job_id)


@shared_task(name="catalog.resume_import_jobs")
def resume_import_jobs() -> int:
    """Every minute: restart background imports whose worker died or was never reached."""
    return backstage_jobs.import_resume_stalled()


@shared_task(name="catalog.activate_scheduled_contracts")
def activate_scheduled_contracts() -> int:
    """Every five minutes: record the scheduled contract versions whose migration window
    has ended and tell the dependents they touch that they are live, each once."""
    return breaking_services.contracts_take_effect()


@shared_task(name="catalog.sync_backstage_sources")
def sync_backstage_sources() -> dict:
    """Every five minutes: pull each enabled Backstage source whose interval has passed
    and queue its import; a source another run holds is left to it."""
    from catalog.backstage.sources import sync_due

    return sync_due()


@shared_task(name="catalog.sync_backstage_source")
def sync_backstage_source(source_id: int) -> str:
    """ "Sync now": one source, whether or not it is due."""
    from catalog.backstage.sources import sync_source

    return sync_source(source_id, force=True)


@shared_task(name="catalog.propose_backstage_retirements")
def propose_backstage_retirements() -> int:
    """Daily: open a sunset case for each live app whose Backstage entity has stayed
    missing from its source past the grace period, once per disappearance."""
    from catalog.backstage.sources import propose_missing_retirements

    return propose_missing_retirements()
