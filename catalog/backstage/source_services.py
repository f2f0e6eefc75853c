"""What the platform team does with sync sources, for the page and the API alike: add,
change, pause, retire (never delete: entities keep pointing at their source) and "sync
now". Each change is audited without the token."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.backstage.fetch import FetchError, check_url
from catalog.models import AuditEvent, BackstageSource

logger = logging.getLogger(__name__)

EDITABLE = ("name", "url", "token", "interval_minutes", "enabled")
MIN_INTERVAL = 5  # the beat looks every five minutes: a shorter interval means nothing


def url_error(url: str) -> str | None:
    """Why ``url`` cannot be a source (scheme, host not in
    ``APPKEEPER_BACKSTAGE_ALLOWED_HOSTS``), or None."""
    try:
        check_url(url)
    except FetchError as exc:
        return str(exc)
    return None


def described(source: BackstageSource) -> dict[str, Any]:
    return {
        "source": source.name,
        "url": source.url,
        "interval_minutes": source.interval_minutes,
        "enabled": source.enabled,
        "token": "set" if source.token else "not set",
    }


def source_save(
    *, actor: Any, values: dict[str, Any], source: BackstageSource | None = None
) -> BackstageSource:
    """Create (``source`` None) or change a source; raises ``ValidationError`` by field."""
    if "url" in values and (error := url_error(values["url"])):
        raise ValidationError({"url": error})
    with transaction.atomic():
        if source is None:
            source = BackstageSource(created_by=actor)
            action = "backstage_source_added"
        else:
            source = BackstageSource.objects.select_for_update().get(pk=source.pk)
            if source.retired_at is not None:
                raise ValidationError({"source": "This source is retired; add a new one."})
            action = "backstage_source_changed"
        for name in EDITABLE:
            if name in values:
                setattr(source, name, values[name])
        if "url" in values or "token" in values:
            # Another file, or another view of it: the next run reads it whole.
            source.etag = source.last_modified = ""
        source.full_clean(exclude=["created_by", "last_job"])
        source.save()
        AuditEvent.record(app=None, actor=actor, action=action, data=described(source))
    return source


def source_retire(*, actor: Any, source: BackstageSource) -> BackstageSource:
    with transaction.atomic():
        source = BackstageSource.objects.select_for_update().get(pk=source.pk)
        if source.retired_at is None:
            source.retired_at = timezone.now()
            source.enabled = False
            source.save(update_fields=["retired_at", "enabled", "updated_at"])
            AuditEvent.record(
                app=None, actor=actor, action="backstage_source_retired", data=described(source)
            )
    return source


def source_sync_now(*, actor: Any, source: BackstageSource) -> None:
    """Queue one run of ``source`` now, whatever its interval; raises ``ValidationError``
    for a retired or paused source."""
    if source.retired_at is not None or not source.enabled:
        raise ValidationError({"source": "Enable the source before syncing it."})
    with transaction.atomic():
        AuditEvent.record(
            app=None, actor=actor, action="backstage_source_sync_requested", data=described(source)
        )
        transaction.on_commit(lambda: enqueue_sync(source.pk))


def enqueue_sync(source_id: int) -> None:
    from catalog.tasks import sync_backstage_source

    try:
        sync_backstage_source.delay(source_id)
    except Exception:  # the broker is down: the five-minute beat syncs it when due
        logger.warning("Could not enqueue a sync of Backstage source %s", source_id, exc_info=True)
