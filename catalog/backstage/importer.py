"""Apps as code: Backstage ``catalog-info.yaml`` in and out.

Import maps Components to apps and API entities with an inline ``definition`` to contract
versions. Nothing is fetched: ``$text``/``$json``/``$yaml`` references are reported as
skipped. The import is all or nothing: every entity is checked with the same serializer,
policies and contract validation as the API, inside one transaction that is rolled back
when any entity has an error, or always for a dry run, so the report is exact either way.

A synchronous import takes up to ``APPKEEPER_BACKSTAGE_MAX_ENTITIES`` documents (every
kind counts: skipping still costs parsing); larger catalogs run as background jobs
(``catalog.backstage_jobs``), which reuse the per-entity steps below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog import permissions
from catalog.contract_services import (
    VERSION_LABEL_MESSAGE,
    contract_upload,
    valid_version_label,
)
from catalog.models import MicroApp, Team
from contracts import (
    ContractError,
    DocumentTooLarge,
    TooManyDocuments,
    load_yaml,
    scan_yaml,
)

ANNOTATION = "appkeeper.io/"
SUPPORTED_KINDS = ("component", "api")
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
TYPE_TO_KIND = {"service": "service", "website": "ui", "library": "integration"}
LIFECYCLE_TO_ENVIRONMENT = {"production": "production", "experimental": "sandbox"}


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
    action: str = ""  # created | updated | unchanged | skipped | error
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "errors": self.errors,
            "warnings": self.warnings,
        }


@dataclass
class ImportReport:
    dry_run: bool
    entities: list[EntityResult] = field(default_factory=list)
    # Kinds the importer does not map (Resource, System, ...): counted, never listed, so a
    # catalog of thousands of Resources answers in a few bytes.
    skipped_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(e.errors for e in self.entities)

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for entity in self.entities:
            counts[entity.action] = counts.get(entity.action, 0) + 1
        if self.skipped_kinds:
            counts["skipped"] = counts.get("skipped", 0) + sum(self.skipped_kinds.values())
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


def _links(metadata: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for link in metadata.get("links") or []:
        if not isinstance(link, dict) or not link.get("url"):
            continue
        label = f"{link.get('title', '')} {link.get('icon', '')} {link.get('type', '')}".lower()
        if "runbook" in label:
            out.setdefault("runbook_url", link["url"])
        elif any(word in label for word in ("github", "gitlab", "repo", "source")):
            out.setdefault("repository_url", link["url"])
        elif any(word in label for word in ("doc", "wiki", "readme")):
            out.setdefault("docs_url", link["url"])
    return out


def _annotation_value(field_name: str, raw: str) -> Any:
    if field_name in BOOLEAN_FIELDS:
        return str(raw).strip().lower() in {"true", "yes", "1"}
    if field_name == "regions":
        return [code.strip() for code in str(raw).split(",") if code.strip()]
    if field_name == "owner":  # ``user:alice``, or a bare username as older exports wrote
        return ref_name(raw, "user")[1]
    if field_name == "co_owners":
        return [ref_name(ref, "user")[1] for ref in str(raw).split(",") if ref.strip()]
    return raw


def _co_owners_here(names: list[str], result: EntityResult) -> list[str]:
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


def component_payload(
    doc: dict, result: EntityResult, user, scope: Team | None = None
) -> dict[str, Any]:
    """Map a Component to the API's app payload; problems go into ``result``. With
    ``scope``, an owner other than that team is refused."""
    metadata = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    payload: dict[str, Any] = {
        "slug": slugify(str(metadata.get("name", ""))),
        "name": metadata.get("title") or metadata.get("name") or "",
        "description": (metadata.get("description") or "").strip(),
        "kind": TYPE_TO_KIND.get(str(spec.get("type", "")).lower(), "integration"),
        "environment": LIFECYCLE_TO_ENVIRONMENT.get(str(spec.get("lifecycle", "")), "staging"),
        "tags": [slugify(str(t)) for t in metadata.get("tags") or []],
        **_links(metadata),
    }
    for key, value in (metadata.get("annotations") or {}).items():
        if key.startswith(ANNOTATION) and key[len(ANNOTATION) :] in ANNOTATED_FIELDS:
            name = ANNOTATED_FIELDS[key[len(ANNOTATION) :]]
            payload[name] = _annotation_value(name, value)
    if "co_owners" in payload:
        payload["co_owners"] = _co_owners_here(payload["co_owners"], result)
    has_sla = all(payload.get(f) for f in ("sla_availability", "sla_p95_ms", "sla_support_hours"))
    if payload["environment"] == "production" and not has_sla:
        # Production apps need an SLA (policy production-needs-sla), which Backstage does not
        # describe: register the app as staging rather than refuse the whole import.
        payload["environment"] = "staging"
        result.warnings.append(
            "lifecycle production without appkeeper.io/sla-* annotations: registered as "
            "staging; declare the SLA, then switch the environment to production."
        )
    owner = spec.get("owner")
    if not owner:
        result.errors.append({"field": "spec.owner", "message": "A Component needs an owner."})
    else:
        kind, name = ref_name(owner, "group")
        if kind == "user":
            team = Team.objects.filter(members__username=name).order_by("name").first()
            payload.setdefault("owner", name)
        else:
            team = Team.objects.filter(slug=slugify(name)).first()
        if team is None:
            result.errors.append(
                {"field": "spec.owner", "message": f"Unknown owner {owner!r}: no such team."}
            )
        elif scope is not None and team.pk != scope.pk:
            result.errors.append(
                {
                    "field": "spec.owner",
                    "message": f"This import is for team {scope.slug}; {owner!r} is another team.",
                }
            )
        else:
            payload["team"] = team.slug
    if not payload["slug"]:
        result.errors.append({"field": "metadata.name", "message": "A Component needs a name."})
    if "lifecycle" not in spec:
        result.warnings.append("No spec.lifecycle; registered as staging.")
    return payload


def import_catalog_info(
    *, text: str, user, request, dry_run: bool, limit: int | None = None
) -> ImportReport:
    """Import every supported entity; raises :class:`ImportRejected` on any error.

    1. Components become apps (created, or updated when the caller may manage them).
    2. ``dependsOn`` is resolved once every Component exists (in the file or the catalog).
    3. API entities with an inline definition become contract versions of the Components
       that provide them (or of the Component of the same name).
    """
    report = ImportReport(dry_run=dry_run)
    docs = parse_documents(text, limit=limit)
    # Shapes first, for every entity: the mapping below reads fields as the schema has them.
    check_shapes(docs, report)
    with transaction.atomic():
        apps: dict[str, MicroApp] = {}
        components = [d for d in docs if entity_kind(d).lower() == "component"]
        provided: dict[str, list[str]] = {}
        for doc in docs:
            count_skipped_kind(doc, report.skipped_kinds)
        for doc in components:
            result = EntityResult("Component", str((doc.get("metadata") or {}).get("name", "?")))
            report.entities.append(result)
            app = import_component(doc, result, user=user, request=request)
            if app is None:
                continue
            apps[app.slug] = app
            for api_ref in (doc.get("spec") or {}).get("providesApis") or []:
                provided.setdefault(ref_name(api_ref, "api")[1], []).append(app.slug)
            result.depends_on = (doc.get("spec") or {}).get("dependsOn") or []
        _resolve_dependencies(report, apps, user)
        _import_apis(report, docs, apps, provided, user)
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


def import_component(
    doc: dict, result: EntityResult, *, user, request, scope: Team | None = None
) -> MicroApp | None:
    """Create or update the app for one Component in a savepoint of its own; None (with
    the errors in ``result``) when it is refused, and then nothing of it is written."""
    from catalog.api.serializers import MicroAppSerializer  # the API's own validation

    payload = component_payload(doc, result, user, scope)
    if result.errors:
        result.action = "error"
        return None
    existing = MicroApp.objects.filter(slug=payload["slug"]).first()
    if existing is not None and not permissions.can_edit(user, existing):
        # Exactly registration's answer for a taken slug: which team holds it, and whether
        # it is a draft the importer may not see, stays unsaid.
        from catalog.services import SLUG_TAKEN

        result.action = "error"
        result.errors.append({"field": "metadata.name", "message": SLUG_TAKEN})
        return None
    serializer = MicroAppSerializer(
        existing,
        data=payload,
        partial=existing is not None,
        context={"request": request},
    )
    if not serializer.is_valid():
        result.action = "error"
        result.errors.extend(
            {"field": f, "message": " ".join(str(m) for m in msgs)}
            for f, msgs in serializer.errors.items()
        )
        return None
    try:
        app = _save(serializer, existing, user)  # atomic: a refusal leaves nothing behind
    except Exception as exc:  # ValidationError from policies: report, don't 500
        result.action = "error"
        result.errors.append({"field": "spec", "message": _message(exc)})
        return None
    result.action = "updated" if existing else "created"
    return app


def _save(serializer, existing, user) -> MicroApp:
    from catalog import services

    data = dict(serializer.validated_data)
    if existing is None:
        return services.app_register(actor=user, data=data)
    return services.app_update(app=existing, actor=user, data=data)


def _message(exc: Exception) -> str:
    messages = getattr(exc, "message_dict", None) or {"": getattr(exc, "messages", [str(exc)])}
    return "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in messages.items())


def _resolve_dependencies(report: ImportReport, apps: dict[str, MicroApp], user) -> None:
    # Only apps the importer may see: another team's draft is reported (and left unlinked)
    # exactly like an app that does not exist.
    catalog = MicroApp.objects.visible_to(user)
    for result in report.entities:
        refs = result.depends_on
        if not refs or result.name == "?":
            continue
        app = apps.get(slugify(result.name))
        if app is None:
            continue
        targets = []
        for ref in refs:
            kind, name = ref_name(ref, "component")
            if kind != "component":
                result.warnings.append(f"dependsOn {ref}: only apps (Components) are tracked.")
                continue
            target = apps.get(slugify(name)) or catalog.filter(slug=slugify(name)).first()
            if target is None:
                # Catalogs span many files: report the reference and link it on a later
                # import once the target exists, rather than refuse the whole file.
                result.warnings.append(f"Dangling reference {ref}: no such app, not linked.")
                continue
            targets.append(target)
        if targets:
            app.depends_on.add(*targets)


def _import_apis(report, docs, apps, provided, user) -> None:
    for doc in docs:
        if entity_kind(doc).lower() != "api":
            continue
        name = str((doc.get("metadata") or {}).get("name", "?"))
        result = EntityResult("API", name)
        report.entities.append(result)
        owners = provided.get(name) or ([slugify(name)] if slugify(name) in apps else [])
        import_api(doc, result, [apps[slug] for slug in owners], user=user)


def api_definition(doc: dict, result: EntityResult) -> tuple[str, str] | None:
    """The inline definition and its type, or None with the reason in ``result``."""
    spec = doc.get("spec") or {}
    definition = spec.get("definition")
    api_type = str(spec.get("type", "")).lower()
    if isinstance(definition, dict) and any(k.startswith("$") for k in definition):
        ref = next(iter(definition.values()))
        result.action = "skipped"
        result.warnings.append(f"Definition is a reference ({ref}); URLs are not fetched.")
        return None
    if api_type not in ("openapi", "graphql"):
        result.action = "skipped"
        result.warnings.append(f"API type {api_type or '?'} is not supported.")
        return None
    if not isinstance(definition, str) or not definition.strip():
        result.action = "error"
        result.errors.append({"field": "spec.definition", "message": "No inline definition."})
        return None
    return definition, api_type


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


def import_api(doc: dict, result: EntityResult, owners: list[MicroApp], *, user) -> None:
    """Store the API's inline definition as a contract version of each of ``owners``."""
    found = api_definition(doc, result)
    if found is None:
        return
    definition, api_type = found
    if not owners:
        result.action = "skipped"
        result.warnings.append("No Component in this file provides this API.")
        return
    version = api_version(doc, result)
    if version is None:
        return
    for app in owners:
        try:
            with transaction.atomic():
                _, created = contract_upload(
                    app=app, actor=user, content=definition, kind=api_type, version=version
                )
        except ContractError as exc:
            result.action = "error"
            result.errors.extend(
                {"field": e["path"], "message": e["message"]} for e in exc.errors[:20]
            )
            return
        except Exception as exc:
            result.action = "error"
            result.errors.append({"field": "spec.definition", "message": _message(exc)})
            return
        result.action = "created" if created else "unchanged"
