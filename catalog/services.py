"""Multi-object writes of the registry, one transaction each, each leaving an audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from catalog.models import AuditEvent, MicroApp

M2M_FIELDS = ("regions", "depends_on")


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    plain = {k: v for k, v in data.items() if k not in M2M_FIELDS}
    relations = {k: v for k, v in data.items() if k in M2M_FIELDS}
    return plain, relations


def _set_relations(app: MicroApp, relations: dict[str, Iterable]) -> None:
    if "regions" in relations:
        app.regions.set(relations["regions"])
    if "depends_on" in relations:
        app.depends_on.set(relations["depends_on"])


def _diff(before: dict, after: dict) -> dict[str, list]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


@transaction.atomic
def app_register(*, actor, data: dict[str, Any]) -> MicroApp:
    """Create an app in ``draft`` with its regions and dependencies, and record who did it."""
    plain, relations = _split(data)
    app = MicroApp(**plain)
    app.full_clean(exclude=["regions", "depends_on"])
    app.save()
    _set_relations(app, relations)
    app_record_change(app=app, actor=actor, before=None)
    return app


@transaction.atomic
def app_update(*, app: MicroApp, actor, data: dict[str, Any]) -> MicroApp:
    """Apply a partial update; the audit event carries only the fields that really changed."""
    app = MicroApp.objects.select_for_update().get(pk=app.pk)
    before = app.audit_snapshot()
    plain, relations = _split(data)
    for field, value in plain.items():
        setattr(app, field, value)
    app.full_clean(exclude=["regions", "depends_on"])
    app.save()
    _set_relations(app, relations)
    app_record_change(app=app, actor=actor, before=before)
    return app


def app_record_change(*, app: MicroApp, actor, before: dict | None) -> AuditEvent | None:
    """Record a creation (``before`` is None) or the fields an update really changed."""
    after = app.audit_snapshot()
    if before is None:
        changes = {k: [None, v] for k, v in after.items()}
        return AuditEvent.record(app=app, actor=actor, action="created", changes=changes)
    changes = _diff(before, after)
    if not changes:
        return None
    return AuditEvent.record(app=app, actor=actor, action="updated", changes=changes)


@transaction.atomic
def app_retire(*, app: MicroApp, actor, reason: str) -> MicroApp:
    app = MicroApp.objects.select_for_update().get(pk=app.pk)
    app.retire(by=actor, reason=reason)
    return app
