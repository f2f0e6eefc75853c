"""Celery tasks of the lifecycle app: thin wrappers over ``lifecycle.services``.

Schedules live in ``config/celery.py``. Every task is safe to run twice in a row or on two
workers at once: the services claim rows under a lock or rely on unique constraints.
"""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from lifecycle import services


@shared_task(name="lifecycle.send_expiry_reminders")
def send_expiry_reminders() -> int:
    """Hourly: 30, 14, 7 and 1 days before expiry, remind owners and team contacts, within
    the hour each reminder falls due; returns how many this run sent.

    1. Lock the active apps with a reminder due and not yet recorded for this period.
    2. Record the reminders and queue the notifications (unique constraints: once each);
       earlier reminders missed during an outage are recorded as superseded.
    3. ``catalog.send_notifications`` delivers them within a minute.
    """
    return services.reminders_send()


@shared_task(name="lifecycle.send_token_expiry_reminders")
def send_token_expiry_reminders() -> int:
    """Daily: tell each owner once when an API token of theirs has 7 days or less left
    (the notification's dedupe key makes a second run a no-op)."""
    return services.token_reminders_send()


@shared_task(name="lifecycle.expire_apps")
def expire_apps() -> dict:
    """Hourly: expire unrenewed apps, then sunset those past the 30-day grace period;
    returns what this run did (a second run reports zeros).

    1. ``active`` past ``expires_at`` → ``expired``, owners notified (and told of any
       reminder an outage kept from them).
    2. ``expired`` past the grace → ``sunsetting`` with a SunsetCase (reason ``expired``).
    3. Critical apps past re-certification: owners, team contact and platform team
       notified once per period, state unchanged.
    """
    return asdict(services.apps_expire())


@shared_task(name="lifecycle.open_sunset_cases")
def open_sunset_cases() -> int:
    """Daily: open a low-usage sunset case for each app below the usage threshold.

    1. Sum each candidate's requests over the 90 complete days before today in one query
       (apps past their expiry are not candidates: they expire instead).
    2. Lock the qualifying apps and move them to ``sunsetting`` with one open case each.
    3. Notify the owners with the figures.
    """
    return services.sunset_cases_open()


@shared_task(name="lifecycle.close_sunset_cases")
def close_sunset_cases() -> int:
    """Hourly: retire the apps whose sunset case went unanswered past its grace end.

    1. Lock the open, uncontested cases past their grace end (not those of critical apps:
       the platform team decides them).
    2. Retire their apps and close the cases.
    3. Notify the owners.
    """
    return services.sunset_cases_close()


@shared_task(name="lifecycle.prune_telemetry_deliveries")
def prune_telemetry_deliveries(older_than_days: int = 7) -> int:
    """Daily: forget telemetry delivery records older than a week (idempotency window)."""
    return services.telemetry_prune(older_than_days=older_than_days)
