"""Apps as code: Backstage ``catalog-info.yaml`` in and out.

Parsing and shape checks, the per-entity result and the report; the per-entity steps are
in ``engine`` (one path for the synchronous import and background jobs). The synchronous
import is all or nothing: every entity is taken in one transaction that is rolled back
when any entity has an error, or always for a dry run, so the report is exact either way.

A synchronous import takes up to ``APPKEEPER_BACKSTAGE_MAX_ENTITIES`` documents (every
kind counts: each is kept); larger catalogs run as background jobs (``jobs``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.contract_services import (
    VERSION_LABEL_MESSAGE,
    valid_version_label,
)
from contracts import (
    ContractError,
    DocumentTooLarge,
    TooManyDocuments,
    load_yaml,
    scan_yaml,
)

ANNOTATION = "appkeeper.io/"
# The kinds mapped to something in Appkeeper; every other kind is kept and reported skipped.
SUPPORTED_KINDS = ("group", "user", "component", "api")
# Appkeeper fields with no Backstage equivalent travel as annotations, so a round trip
# keeps them.
ANNOTATED_FIELDS = {
    "kind": "kind",
    "environment": "environment",
    "criticality": "criticality",
    "runtime": "runtime",
    "contact": "contact",
    "handles-pii": "handles_pii",
    "handles-payment-data": "handles_payment_data",
    "externally-exposed": "externally_exposed",
    "data-residency": "data_residency",
    "regions": "regions",
    "sla-availability": "sla_availability",
    "sla-p95-ms": "sla_p95_ms",
    "sla-support-hours": "sla_support_hours",
    "owner": "owner",
    "co-owners": "co_owners",
}
BOOLEAN_FIELDS = {"handles_pii", "handles_payment_data", "externally_exposed"}
# Backstage ``spec.type`` → Appkeeper kind; any other type is an integration.
TYPE_TO_KIND = {"service": "service", "website": "ui", "library": "integration"}


class TooManyEntities(Exception):
    """The upload holds more documents than allowed; parsing stopped at the first over."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} entities")
        self.limit = limit


class ImportRejected(Exception):
    """At least one entity has an error; nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import rejected")
        self.report = report


@dataclass
class EntityResult:
    kind: str
    name: str
    ref: str = ""
    action: str = ""  # created | updated | unchanged | skipped | error
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The app a Component was written to (or would be, in a dry run); not reported.
    app: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "name": self.name,
            "action": self.action,
            "errors": self.errors,
            "warnings": self.warnings,
        }


@dataclass
class ImportReport:
    dry_run: bool
    entities: list[EntityResult] = field(default_factory=list)
    # Kinds the importer does not map (Resource, System, ...), by kind; each is also listed
    # as skipped.
    skipped_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(e.errors for e in self.entities)

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for entity in self.entities:
            counts[entity.action] = counts.get(entity.action, 0) + 1
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "written": self.ok and not self.dry_run,
            "summary": counts,
            "skipped_kinds": dict(sorted(self.skipped_kinds.items())),
            "entities": [e.as_dict() for e in self.entities],
        }


def check_size(size: int) -> None:
    """Refuse (413) an upload over ``APPKEEPER_BACKSTAGE_MAX_BYTES`` before reading it."""
    from django.conf import settings

    limit = settings.APPKEEPER_BACKSTAGE_MAX_BYTES
    if size > limit:
        raise DocumentTooLarge(
            [{"path": "$", "message": f"The file is {size} bytes; the limit is {limit} bytes."}]
        )


def upload_text(raw: str | bytes) -> str:
    """The upload as text: 413 over the size limit, ValueError unless UTF-8."""
    if isinstance(raw, str):
        check_size(len(raw.encode("utf-8")))
        return raw
    check_size(len(raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("The file must be UTF-8 text.") from None


def entity_kind(doc: dict) -> str:
    return str(doc.get("kind", "")).strip() or "?"


def parse_documents(text: str, *, limit: int | None = None) -> list[dict]:
    """Load a multi-document YAML safely (no aliases, no tags beyond the safe set).

    With ``limit``, a stream of more documents raises :class:`TooManyEntities` as soon as
    the scan reaches the first one over, before any document is built.
    """
    try:
        docs = [d for d in load_yaml(text, multi=True, max_documents=limit) if d is not None]
    except TooManyDocuments as exc:
        raise TooManyEntities(exc.limit) from None
    except ContractError as exc:  # malformed, anchors/aliases, too deep: where and why
        raise ValueError(str(exc)) from None
    if not docs:
        raise ValueError("The file holds no entities.")
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise ValueError(f"Document {index + 1} is not a mapping.")
        # Every Backstage entity names its kind; a mapping without one is not an entity
        # (other kinds are reported and skipped, this is refused).
        kind = doc.get("kind")
        if not isinstance(kind, str) or not kind.strip():
            raise ValueError(f"Document {index + 1} is not a Backstage entity: it has no kind.")
    return docs


def scan_documents(text: str, *, limit: int) -> int:
    """What can be checked without building the entities: YAML syntax, anchors, depth and
    at most ``limit`` documents, which it counts, each a mapping with a ``kind`` (as the
    request-time import refuses otherwise). Raises :class:`TooManyEntities` or
    ``ValueError``."""
    try:
        count = scan_yaml(text, max_documents=limit, root_keys=("kind",))
    except TooManyDocuments as exc:
        raise TooManyEntities(exc.limit) from None
    except ContractError as exc:
        raise ValueError(str(exc)) from None
    if not count:
        raise ValueError("The file holds no entities.")
    return count


# The shape every entity must have before any field is read: Backstage's own schema, for
# the parts the importer reads. Absent is fine; present with another type is refused.
MAPPINGS = (("metadata",), ("spec",), ("metadata", "annotations"))
LISTS = {
    "metadata.tags": ("metadata", "tags"),
    "metadata.links": ("metadata", "links"),
    "spec.dependsOn": ("spec", "dependsOn"),
    "spec.providesApis": ("spec", "providesApis"),
    "spec.consumesApis": ("spec", "consumesApis"),
}
SCALARS = {"metadata.name": ("metadata", "name"), "metadata.title": ("metadata", "title")}
STRINGS = {"metadata.description": ("metadata", "description")}


def _get(doc: dict, path: tuple[str, ...]) -> Any:
    node: Any = doc
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def shape_errors(doc: dict) -> list[dict[str, str]]:
    """What is wrongly shaped in one entity (a list where a mapping belongs, and so on)."""
    errors = []
    for path in MAPPINGS:
        value = _get(doc, path)
        if value is not None and not isinstance(value, dict):
            field_name = ".".join(path)
            errors.append({"field": field_name, "message": f"{field_name} must be a mapping."})
    if errors:  # the fields below live inside these mappings
        return errors
    for name, path in LISTS.items():
        value = _get(doc, path)
        if value is not None and not isinstance(value, list):
            errors.append({"field": name, "message": f"{name} must be a list."})
    for name, path in SCALARS.items():
        value = _get(doc, path)
        if value is not None and not isinstance(value, str | int | float):
            errors.append({"field": name, "message": f"{name} must be a string."})
    for name, path in STRINGS.items():
        value = _get(doc, path)
        if value is not None and not isinstance(value, str):
            errors.append({"field": name, "message": f"{name} must be a string."})
    annotations = _get(doc, ("metadata", "annotations")) or {}
    for key, value in annotations.items():
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
            field_name = f"metadata.annotations.{key}"
            errors.append({"field": field_name, "message": f"{field_name} must be a string."})
    return errors


def ref_name(ref: Any, default_kind: str) -> tuple[str, str]:
    """``group:default/team-a`` → ("group", "team-a"); ``team-a`` → (default_kind, "team-a")."""
    text = str(ref).strip()
    kind = default_kind
    if ":" in text:
        kind, text = text.split(":", 1)
    return kind.lower(), text.rsplit("/", 1)[-1]


def slugify(name: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", name.lower())).strip("-")


def annotation_value(field_name: str, raw: str) -> Any:
    if field_name in BOOLEAN_FIELDS:
        return str(raw).strip().lower() in {"true", "yes", "1"}
    if field_name == "regions":
        return [code.strip() for code in str(raw).split(",") if code.strip()]
    if field_name == "owner":  # ``user:alice``, or a bare username as older exports wrote
        return ref_name(raw, "user")[1]
    if field_name == "co_owners":
        return [ref_name(ref, "user")[1] for ref in str(raw).split(",") if ref.strip()]
    return raw


def co_owners_here(names: list[str], result: EntityResult) -> list[str]:
    """The co-owners who are active people here; the others are left out with a warning
    (an export from another installation names people this one may not know)."""
    active = set(
        get_user_model()
        .objects.filter(username__in=names, is_active=True)
        .values_list("username", flat=True)
    )
    missing = [name for name in names if name not in active]
    if missing:
        result.warnings.append(
            f"{ANNOTATION}co-owners: {', '.join(missing)} not active people here; left out."
        )
    return [name for name in names if name in active]


def import_catalog_info(
    *, text: str, user, request, dry_run: bool, limit: int | None = None
) -> ImportReport:
    """Import every entity, Groups, Users, Components, APIs, then the other kinds; raises
    :class:`ImportRejected` on any error, with nothing written."""
    from catalog.backstage import engine

    report = ImportReport(dry_run=dry_run)
    docs = parse_documents(text, limit=limit)
    # Shapes first, for every entity: the mapping reads fields as the schema has them.
    check_shapes(docs, report)
    with transaction.atomic():
        batch = engine.Batch(
            user=user,
            request=request,
            dry_run=dry_run,
            refs=engine.refs(docs),
            provided=engine.provided(docs),
        )
        for index in engine.ordered(docs):
            result = engine.take(batch, docs[index], index)
            report.entities.append(result)
            count_skipped_kind(docs[index], report.skipped_kinds)
        if not report.ok:
            transaction.set_rollback(True)
            raise ImportRejected(report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def check_shapes(docs: list[dict], report: ImportReport) -> None:
    """Raise :class:`ImportRejected` listing each misshapen entity (the others as not
    imported, unsupported kinds as counts) when any entity is wrongly shaped."""
    shapes = [shape_errors(doc) for doc in docs]
    if not any(shapes):
        return
    for doc, errors in zip(docs, shapes, strict=True):
        if not errors and count_skipped_kind(doc, report.skipped_kinds):
            continue
        name = _get(doc, ("metadata", "name"))
        result = EntityResult(entity_kind(doc), str(name) if name is not None else "?")
        result.action = "error" if errors else "skipped"
        result.errors = errors
        if not errors:
            result.warnings.append("Not imported: another entity has errors.")
        report.entities.append(result)
    raise ImportRejected(report)


def count_skipped_kind(doc: dict, counts: dict[str, int]) -> bool:
    """Count ``doc`` under its kind when the importer does not map that kind."""
    kind = entity_kind(doc)
    if kind.lower() in SUPPORTED_KINDS:
        return False
    counts[kind] = counts.get(kind, 0) + 1
    return True


def message(exc: Exception) -> str:
    messages = getattr(exc, "message_dict", None) or {"": getattr(exc, "messages", [str(exc)])}
    return "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in messages.items())


def api_version(doc: dict, result: EntityResult) -> str | None:
    """The ``appkeeper.io/version`` label ("" for none), or None when it is invalid."""
    annotations = (doc.get("metadata") or {}).get("annotations") or {}
    version = str(annotations.get(f"{ANNOTATION}version", "")).strip()
    if version and not valid_version_label(version):
        result.action = "error"
        result.errors.append(
            {"field": f"metadata.annotations.{ANNOTATION}version", "message": VERSION_LABEL_MESSAGE}
        )
        return None
    return version
