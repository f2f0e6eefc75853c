"""Apps as code: Backstage ``catalog-info.yaml`` in and out.

Import maps Components to apps and API entities with an inline ``definition`` to contract
versions. Nothing is fetched: ``$text``/``$json``/``$yaml`` references are reported as
skipped. The import is all or nothing: every entity is checked with the same serializer,
policies and contract validation as the API, inside one transaction that is rolled back
when any entity has an error, or always for a dry run, so the report is exact either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.db import transaction

from catalog import permissions
from catalog.contract_services import (
    VERSION_LABEL_MESSAGE,
    contract_upload,
    valid_version_label,
)
from catalog.models import MicroApp, Team
from catalog.selectors import latest_contract
from contracts import ContractError, load_yaml

ANNOTATION = "appkeeper.io/"
MAX_IMPORT_BYTES = 10 * 1024 * 1024
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
}
BOOLEAN_FIELDS = {"handles_pii", "handles_payment_data", "externally_exposed"}
TYPE_TO_KIND = {"service": "service", "website": "ui", "library": "integration"}
LIFECYCLE_TO_ENVIRONMENT = {"production": "production", "experimental": "sandbox"}
ENVIRONMENT_TO_LIFECYCLE = {"production": "production", "sandbox": "experimental"}


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
            "entities": [e.as_dict() for e in self.entities],
        }


def parse_documents(text: str) -> list[dict]:
    """Load a multi-document YAML safely (no aliases, no tags beyond the safe set)."""
    try:
        docs = [d for d in load_yaml(text, multi=True) if d is not None]
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


def _ref_name(ref: Any, default_kind: str) -> tuple[str, str]:
    """``group:default/team-a`` → ("group", "team-a"); ``team-a`` → (default_kind, "team-a")."""
    text = str(ref).strip()
    kind = default_kind
    if ":" in text:
        kind, text = text.split(":", 1)
    return kind.lower(), text.rsplit("/", 1)[-1]


def _slugify(name: str) -> str:
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
    return raw


def component_payload(doc: dict, result: EntityResult, user) -> dict[str, Any]:
    """Map a Component to the API's app payload; problems go into ``result``."""
    metadata = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    payload: dict[str, Any] = {
        "slug": _slugify(str(metadata.get("name", ""))),
        "name": metadata.get("title") or metadata.get("name") or "",
        "description": (metadata.get("description") or "").strip(),
        "kind": TYPE_TO_KIND.get(str(spec.get("type", "")).lower(), "integration"),
        "environment": LIFECYCLE_TO_ENVIRONMENT.get(str(spec.get("lifecycle", "")), "staging"),
        "tags": [_slugify(str(t)) for t in metadata.get("tags") or []],
        **_links(metadata),
    }
    for key, value in (metadata.get("annotations") or {}).items():
        if key.startswith(ANNOTATION) and key[len(ANNOTATION) :] in ANNOTATED_FIELDS:
            name = ANNOTATED_FIELDS[key[len(ANNOTATION) :]]
            payload[name] = _annotation_value(name, value)
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
        kind, name = _ref_name(owner, "group")
        if kind == "user":
            team = Team.objects.filter(members__username=name).order_by("name").first()
            payload.setdefault("owner", name)
        else:
            team = Team.objects.filter(slug=_slugify(name)).first()
        if team is None:
            result.errors.append(
                {"field": "spec.owner", "message": f"Unknown owner {owner!r}: no such team."}
            )
        else:
            payload["team"] = team.slug
    if not payload["slug"]:
        result.errors.append({"field": "metadata.name", "message": "A Component needs a name."})
    if "lifecycle" not in spec:
        result.warnings.append("No spec.lifecycle; registered as staging.")
    return payload


def _export_annotations(app: MicroApp) -> dict[str, str]:
    values = {
        "kind": app.kind,
        "environment": app.environment,
        "criticality": app.criticality,
        "runtime": app.runtime,
        "contact": app.contact,
        "owner": app.owner.get_username(),
        "handles-pii": str(app.handles_pii).lower(),
        "handles-payment-data": str(app.handles_payment_data).lower(),
        "externally-exposed": str(app.externally_exposed).lower(),
        "data-residency": app.data_residency,
        "regions": ",".join(sorted(r.code for r in app.regions.all())),
        "sla-availability": str(app.sla_availability or ""),
        "sla-p95-ms": str(app.sla_p95_ms or ""),
        "sla-support-hours": app.sla_support_hours,
    }
    return {f"{ANNOTATION}{k}": v for k, v in values.items() if v not in ("", None)}


def export_app(app: MicroApp) -> str:
    """The app (and its latest contract as an API entity) as a ``catalog-info.yaml``."""
    links = [
        {"url": url, "title": title}
        for url, title in (
            (app.docs_url, "Docs"),
            (app.runbook_url, "Runbook"),
            (app.repository_url, "Repository"),
        )
        if url
    ]
    component: dict[str, Any] = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": app.slug,
            "title": app.name,
            "description": app.description,
            "tags": list(app.tags),
            "links": links,
            "annotations": _export_annotations(app),
        },
        "spec": {
            "type": {v: k for k, v in TYPE_TO_KIND.items()}.get(app.kind, "service"),
            "lifecycle": ENVIRONMENT_TO_LIFECYCLE.get(app.environment, "staging"),
            "owner": f"group:{app.team.slug}",
            "dependsOn": [f"component:{d.slug}" for d in app.depends_on.all()],
        },
    }
    docs = [component]
    contract = latest_contract(app=app)
    if contract is not None:
        component["spec"]["providesApis"] = [f"{app.slug}-api"]
        definition = (
            contract.sdl
            if contract.kind == "graphql"
            else yaml.safe_dump(contract.document, sort_keys=False, allow_unicode=True)
        )
        docs.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "API",
                "metadata": {
                    "name": f"{app.slug}-api",
                    "title": f"{app.name} API",
                    "annotations": {f"{ANNOTATION}version": contract.version},
                },
                "spec": {
                    "type": contract.kind,
                    "lifecycle": component["spec"]["lifecycle"],
                    "owner": f"group:{app.team.slug}",
                    "definition": definition,
                },
            }
        )
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True)


def import_catalog_info(*, text: str, user, request, dry_run: bool) -> ImportReport:
    """Import every supported entity; raises :class:`ImportRejected` on any error.

    1. Components become apps (created, or updated when the caller may manage them).
    2. ``dependsOn`` is resolved once every Component exists (in the file or the catalog).
    3. API entities with an inline definition become contract versions of the Components
       that provide them (or of the Component of the same name).
    """
    from catalog.api.serializers import MicroAppSerializer  # the API's own validation

    report = ImportReport(dry_run=dry_run)
    docs = parse_documents(text)
    # Shapes first, for every entity: the mapping below reads fields as the schema has them.
    shapes = [shape_errors(doc) for doc in docs]
    if any(shapes):
        for doc, errors in zip(docs, shapes, strict=True):
            name = _get(doc, ("metadata", "name"))
            result = EntityResult(str(doc.get("kind")), str(name) if name is not None else "?")
            result.action = "error" if errors else "skipped"
            result.errors = errors
            if not errors:
                result.warnings.append("Not imported: another entity has errors.")
            report.entities.append(result)
        raise ImportRejected(report)
    with transaction.atomic():
        apps: dict[str, MicroApp] = {}
        components = [d for d in docs if str(d.get("kind", "")).lower() == "component"]
        provided: dict[str, list[str]] = {}
        for doc in docs:
            kind = str(doc.get("kind", "")).strip() or "?"
            name = str((doc.get("metadata") or {}).get("name", "")) or "?"
            if kind.lower() not in ("component", "api"):
                report.entities.append(
                    EntityResult(
                        kind, name, "skipped", warnings=[f"{kind} entities are not imported."]
                    )
                )
        for doc in components:
            result = EntityResult("Component", str((doc.get("metadata") or {}).get("name", "?")))
            report.entities.append(result)
            payload = component_payload(doc, result, user)
            if result.errors:
                result.action = "error"
                continue
            existing = MicroApp.objects.filter(slug=payload["slug"]).first()
            if existing is not None and not permissions.can_edit(user, existing):
                result.action = "error"
                result.errors.append(
                    {
                        "field": "metadata.name",
                        "message": f"App {existing.slug} exists and belongs to another team.",
                    }
                )
                continue
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
                continue
            try:
                with transaction.atomic():
                    app = _save(serializer, existing, user)
            except Exception as exc:  # ValidationError from policies: report, don't 500
                result.action = "error"
                result.errors.append({"field": "spec", "message": _message(exc)})
                continue
            result.action = "updated" if existing else "created"
            apps[app.slug] = app
            for api_ref in (doc.get("spec") or {}).get("providesApis") or []:
                provided.setdefault(_ref_name(api_ref, "api")[1], []).append(app.slug)
            result.depends_on = (doc.get("spec") or {}).get("dependsOn") or []
        _resolve_dependencies(report, apps, user)
        _import_apis(report, docs, apps, provided, user)
        if not report.ok:
            transaction.set_rollback(True)
            raise ImportRejected(report)
        if dry_run:
            transaction.set_rollback(True)
    return report


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
        app = apps.get(_slugify(result.name))
        if app is None:
            continue
        targets = []
        for ref in refs:
            kind, name = _ref_name(ref, "component")
            if kind != "component":
                result.warnings.append(f"dependsOn {ref}: only apps (Components) are tracked.")
                continue
            target = apps.get(_slugify(name)) or catalog.filter(slug=_slugify(name)).first()
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
        if str(doc.get("kind", "")).lower() != "api":
            continue
        metadata, spec = doc.get("metadata") or {}, doc.get("spec") or {}
        name = str(metadata.get("name", "?"))
        result = EntityResult("API", name)
        report.entities.append(result)
        definition = spec.get("definition")
        api_type = str(spec.get("type", "")).lower()
        if isinstance(definition, dict) and any(k.startswith("$") for k in definition):
            ref = next(iter(definition.values()))
            result.action = "skipped"
            result.warnings.append(f"Definition is a reference ({ref}); URLs are not fetched.")
            continue
        if api_type not in ("openapi", "graphql"):
            result.action = "skipped"
            result.warnings.append(f"API type {api_type or '?'} is not supported.")
            continue
        if not isinstance(definition, str) or not definition.strip():
            result.action = "error"
            result.errors.append({"field": "spec.definition", "message": "No inline definition."})
            continue
        owners = provided.get(name) or ([_slugify(name)] if _slugify(name) in apps else [])
        if not owners:
            result.action = "skipped"
            result.warnings.append("No Component in this file provides this API.")
            continue
        version = str((metadata.get("annotations") or {}).get(f"{ANNOTATION}version", ""))
        version = version.strip()
        if version and not valid_version_label(version):
            result.action = "error"
            result.errors.append(
                {
                    "field": f"metadata.annotations.{ANNOTATION}version",
                    "message": VERSION_LABEL_MESSAGE,
                }
            )
            continue
        for slug in owners:
            try:
                with transaction.atomic():
                    _, created = contract_upload(
                        app=apps[slug],
                        actor=user,
                        content=definition,
                        kind=api_type,
                        version=version,
                    )
            except ContractError as exc:
                result.action = "error"
                result.errors.extend(
                    {"field": e["path"], "message": e["message"]} for e in exc.errors[:20]
                )
                break
            except Exception as exc:
                result.action = "error"
                result.errors.append({"field": "spec.definition", "message": _message(exc)})
                break
            result.action = "created" if created else "unchanged"
