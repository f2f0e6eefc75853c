"""Every entity read is kept as it was read, by its full reference, with the references it
declares; the importer then maps it to a team, a person or an app."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from django.utils import timezone

from catalog.backstage.refs import EntityRef
from catalog.models import BackstageEntity, BackstageRelation, BackstageSource


def digest(document: dict, definition: str = "") -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{canonical}\0{definition}".encode()).hexdigest()


def store_entity(
    document: dict,
    *,
    source: BackstageSource | None = None,
    location: str = "",
    definition: str = "",
) -> tuple[BackstageEntity, bool]:
    """Create or refresh the entity of ``document``; returns it and whether what was read
    differs from what was kept (a new entity counts as changed). Seeing it again clears a
    missing flag. Raises :class:`~catalog.backstage.refs.RefError` for an entity without a
    usable kind or name."""
    ref = EntityRef.of(document)
    fingerprint = digest(document, definition)
    now = timezone.now()
    entity = BackstageEntity.objects.filter(ref=ref.key).first()
    if entity is None:
        entity = BackstageEntity.objects.create(
            ref=ref.key,
            kind=ref.kind,
            namespace=ref.namespace,
            name=ref.name,
            document=document,
            definition=definition,
            digest=fingerprint,
            location=location,
            source=source,
            first_seen_at=now,
            last_seen_at=now,
        )
        return entity, True
    changed = entity.digest != fingerprint
    entity.document, entity.definition, entity.digest = document, definition, fingerprint
    entity.name = ref.name
    entity.location = location or entity.location
    entity.source = source or entity.source
    entity.last_seen_at, entity.missing_since = now, None
    entity.save()
    return entity, changed


def set_relations(entity: BackstageEntity, type_: str, targets: Iterable[EntityRef]) -> None:
    """Make ``entity``'s relations of ``type_`` exactly ``targets`` (these rows index what
    the document says; the document itself keeps every relation verbatim)."""
    wanted = {target.key for target in targets}
    kept = set(
        BackstageRelation.objects.filter(entity=entity, type=type_).values_list(
            "target_ref", flat=True
        )
    )
    if kept - wanted:
        BackstageRelation.objects.filter(
            entity=entity, type=type_, target_ref__in=kept - wanted
        ).delete()
    BackstageRelation.objects.bulk_create(
        [BackstageRelation(entity=entity, type=type_, target_ref=key) for key in wanted - kept],
        ignore_conflicts=True,
    )
