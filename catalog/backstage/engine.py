"""One entity at a time, the same for a synchronous import and a background job.

Every entity, whatever its kind, is kept by its full reference (``store.store_entity``) so
nothing Backstage knows is lost; then Groups become teams, Users people, Components apps
and APIs definitions, in that order (:func:`ordered`) whatever the order in the file, so
an owner or a member is there before what names it. References between entities are
followed by ``relations``, whichever side arrives second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from catalog.backstage import components, names, org, relations
from catalog.backstage.importer import EntityResult, api_version, entity_kind
from catalog.backstage.placeholders import placeholder
from catalog.backstage.refs import DEFAULT_NAMESPACE, EntityRef, RefError
from catalog.backstage.store import store_entity
from catalog.models import BackstageEntity, BackstageSource, Team

KIND_ORDER = {"group": 0, "user": 1, "component": 2, "api": 3}
DISPLAY = {"group": "Group", "user": "User", "component": "Component", "api": "API"}


@dataclass
class Batch:
    """Who imports what: the same for every entity of one import or job."""

    user: Any
    request: Any
    dry_run: bool
    scope: Team | None = None
    source: BackstageSource | None = None
    # By document index (as a string): {"location", "definition", "error"}.
    resolved: dict[str, dict] = field(default_factory=dict)
    # The references of every entity in the batch: a dry run counts them as present.
    refs: frozenset[str] = frozenset()
    # The APIs some Component of the batch provides (``providesApis``, or its own name).
    provided: frozenset[str] = frozenset()


def refs(docs: list[dict]) -> frozenset[str]:
    keys = set()
    for doc in docs:
        try:
            keys.add(EntityRef.of(doc).key)
        except RefError:
            continue
    return frozenset(keys)


def provided(docs: list[dict]) -> frozenset[str]:
    """The API references the batch's Components provide: by ``providesApis``, and the API
    of each Component's own name (the fallback attachment)."""
    keys = set()
    for doc in docs:
        if entity_kind(doc).lower() != "component":
            continue
        try:
            own = EntityRef.of(doc)
        except RefError:
            continue
        keys.add(EntityRef("api", own.namespace, own.name).key)
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        for raw in spec.get("providesApis") or []:
            try:
                keys.add(
                    EntityRef.parse(raw, default_kind="api", default_namespace=own.namespace).key
                )
            except RefError:
                continue
    return frozenset(keys)


def ordered(docs: list[dict]) -> list[int]:
    """Document indexes in the order they are taken: Groups, Users, Components, APIs, then
    every other kind, each in file order."""
    rank = [KIND_ORDER.get(entity_kind(doc).lower(), len(KIND_ORDER)) for doc in docs]
    return sorted(range(len(docs)), key=lambda i: (rank[i], i))


def take(batch: Batch, doc: dict, index: int, *, isolate: bool = False) -> EntityResult:
    """Keep and map one entity in a savepoint of its own, rolled back when it has an error
    (nothing half-written) or, with ``isolate``, always (a background dry run)."""
    kind = entity_kind(doc)
    name = (doc.get("metadata") or {}).get("name")
    result = EntityResult(DISPLAY.get(kind.lower(), kind), str(name) if name else "?")
    try:
        ref = EntityRef.of(doc)
    except RefError as exc:
        result.action = "error"
        result.errors.append({"field": "metadata.name", "message": str(exc)})
        return result
    result.ref = str(ref)
    invalid = _invalid_names(ref)
    if invalid:
        result.action = "error"
        result.errors.extend(invalid)
        return result
    with transaction.atomic():
        _take(batch, doc, ref, batch.resolved.get(str(index)) or {}, result)
        if result.errors:
            result.action = "error"
            transaction.set_rollback(True)
        elif isolate:
            transaction.set_rollback(True)
    return result


def _invalid_names(ref: EntityRef) -> list[dict[str, str]]:
    """What Backstage's own validation refuses in the name and namespace: an entity it
    would not accept is not accepted here either (nor exported back)."""
    errors = []
    if not names.valid_name(ref.name):
        errors.append(
            {
                "field": "metadata.name",
                "message": f"{ref.name!r} is not a valid entity name: at most {names.NAME_MAX} "
                "letters, digits and [-_.], starting and ending with a letter or digit.",
            }
        )
    if ref.namespace != DEFAULT_NAMESPACE and not names.valid_name(ref.namespace):
        errors.append(
            {
                "field": "metadata.namespace",
                "message": f"{ref.namespace!r} is not a valid namespace: at most "
                f"{names.NAME_MAX} letters, digits and [-_.].",
            }
        )
    return errors


def _take(batch: Batch, doc: dict, ref: EntityRef, extra: dict, result: EntityResult) -> None:
    definition = api_definition(doc, extra) if ref.kind == "api" else ""
    existed = ref.kind == "api" and BackstageEntity.objects.filter(ref=ref.key).exists()
    entity, changed = store_entity(
        doc, source=batch.source, location=extra.get("location") or "", definition=definition
    )
    if ref.kind == "group":
        org.import_group(doc, entity, result, user=batch.user, scope=batch.scope)
    elif ref.kind == "user":
        org.import_user(doc, entity, result, user=batch.user)
    elif ref.kind == "component":
        app = components.import_component(doc, entity, result, batch)
        result.app = app
        if app is not None:
            relations.component_written(
                app, entity, result, user=batch.user, dry_run=batch.dry_run, in_batch=batch.refs
            )
    elif ref.kind == "api":
        action = ("updated" if changed else "unchanged") if existed else "created"
        import_api(batch, doc, entity, action, extra, result)
    else:
        result.action = "skipped"


def api_definition(doc: dict, extra: dict) -> str:
    """The definition to keep: inline text, or what was fetched for its placeholder."""
    value = (doc.get("spec") or {}).get("definition")
    if isinstance(value, str):
        return value
    return str(extra.get("definition") or "")


def import_api(
    batch: Batch,
    doc: dict,
    entity: BackstageEntity,
    action: str,
    extra: dict,
    result: EntityResult,
) -> None:
    value = (doc.get("spec") or {}).get("definition")
    found = placeholder(value)
    if api_version(doc, result) is None:
        return
    if extra.get("error"):
        result.action = "skipped"
        result.warnings.append(f"Definition not read: {extra['error']}")
    elif found is not None and not entity.definition:
        result.action = "skipped"
        result.warnings.append(
            f"Definition is a placeholder ({found[0]}: {found[1]}); it is fetched by a "
            "background import or a sync source, not by an upload."
        )
    elif not entity.definition.strip():
        # Backstage requires one, but some catalogs (and its own examples) omit it: the
        # entity is kept all the same, with nothing to attach.
        result.action = "skipped"
        result.warnings.append("No spec.definition: kept, nothing to attach to its apps.")
    else:
        result.action = action
    relations.api_stored(
        entity, result, user=batch.user, dry_run=batch.dry_run, in_batch=batch.provided
    )
