"""Celery tasks of the messaging app; schedules live in ``config/celery.py``."""

from __future__ import annotations

from celery import shared_task

from messaging import digests


@shared_task(name="messaging.send_digests")
def send_digests() -> int:
    """Hourly at minute 0: queue the daily and weekly digests due (each person's digest hour
    is local, so some hour of the day is someone's); returns how many were queued. The
    outbox (``catalog.send_notifications``) delivers them."""
    return digests.send_digests()
