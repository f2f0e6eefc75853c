"""Apps as code, outwards: an app (and its contract) as Backstage entities.

An app imported from Backstage is written back whole: the export starts from the entity
exactly as it was read and changes only what Appkeeper owns or what was changed here
(title, description, tags, the docs/runbook/repository links, the lifecycle, the owner,
dependencies declared in Appkeeper, the ``appkeeper.io/*`` annotations). Other
annotations, labels, links, ``spec.system``, ``spec.type``, relations and unknown fields
go back verbatim. An app never imported is generated, with names and tags made to fit
Backstage's rules (``catalog.backstage.names``). Appkeeper's own fields travel as
``appkeeper.io/*`` annotations so an export re-imports to the same app; ``appkeeper.io/slug``
names the app even when its entity name had to be shortened.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from catalog.backstage import names
from catalog.backstage.placeholders import placeholder
from catalog.backstage.refs import DEFAULT_NAMESPACE, EntityRef, RefError
from catalog.models import BackstageEntity, Contract, Dependency, MicroApp
from catalog.querysets import MicroAppQuerySet

ANNOTATION = "appkeeper.io/"
API_VERSION = "backstage.io/v1alpha1"
KIND_TO_TYPE = {"service": "service", "ui": "website", "integration": "library"}
ENVIRONMENT_TO_LIFECYCLE = {"production": "production", "sandbox": "experimental"}
LIFECYCLE_TO_ENVIRONMENT = {"production": "production", "experimental": "sandbox"}
# The links Appkeeper holds, and the words that tell an entity's link is that one.
LINK_FIELDS = (
    ("docs_url", "Docs", ("doc", "wiki", "readme")),
    ("runbook_url", "Runbook", ("runbook",)),
    ("repository_url", "Repository", ("github", "gitlab", "repo", "source")),
)


@dataclass
class ExportContext:
    """What the export of many apps reads once, whatever their number."""

    # Stored Group / User entity reference → the team / person it became.
    group_teams: dict[str, int] = field(default_factory=dict)
    user_people: dict[str, int] = field(default_factory=dict)
    api_refs: set[str] = field(default_factory=set)
    contracts: dict[int, Contract] = field(default_factory=dict)

    @classmethod
    def load(cls, apps: Iterable[MicroApp]) -> ExportContext:
        """Two queries: the stored entities apps point at, and the apps' current contracts
        (annotated by :func:`export_queryset`)."""
        ctx = cls()
        rows = BackstageEntity.objects.filter(kind__in=("group", "user", "api")).values_list(
            "ref", "kind", "team_id", "user_id"
        )
        for ref, kind, team_id, user_id in rows:
            if kind == "api":
                ctx.api_refs.add(ref)
            elif kind == "group" and team_id:
                ctx.group_teams[ref] = team_id
            elif kind == "user" and user_id:
                ctx.user_people[ref] = user_id
        ids = [pk for pk in (getattr(app, "export_contract_id", None) for app in apps) if pk]
        if ids:
            contracts = Contract.objects.only("app_id", "kind", "version", "document", "sdl")
            ctx.contracts = {c.app_id: c for c in contracts.filter(pk__in=ids)}
        return ctx


def export_queryset(apps: MicroAppQuerySet) -> MicroAppQuerySet:
    """``apps`` with everything their export reads, in a fixed number of queries."""
    current = (
        Contract.objects.filter(app=OuterRef("pk"))
        .in_effect()
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    links = Dependency.objects.select_related(
        "to_microapp", "to_microapp__backstage_entity"
    ).order_by("to_microapp__slug")
    return (
        apps.select_related("team", "owner", "backstage_entity", "team__backstage_entity")
        .with_co_owner_usernames()
        .annotate(export_contract_id=Subquery(current))
        .prefetch_related("regions", Prefetch("dependency_links", queryset=links))
    )


def linked_entity(obj: Any) -> BackstageEntity | None:
    """The Backstage entity an app, team or person was imported from, if any."""
    try:
        return obj.backstage_entity
    except ObjectDoesNotExist:
        return None


def absolute_placeholders(node: Any, location: str) -> None:
    """Rewrite relative ``$text``/``$json``/``$yaml`` targets against ``location`` (in
    place): the export is served from Appkeeper, where a relative path would point
    elsewhere. Without an http(s) location they stay as written."""
    if urlsplit(location).scheme not in ("http", "https"):
        return
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in list(items):
        found = placeholder(value)
        if found is not None:
            kind, target = found
            if not urlsplit(target).scheme:
                node[key] = {kind: urljoin(location, target)}
        else:
            absolute_placeholders(value, location)


def stored_document(entity: BackstageEntity) -> dict:
    """An entity as it was read, placeholders made absolute."""
    document = copy.deepcopy(entity.document)
    absolute_placeholders(document, entity.location)
    return document


def app_ref(app: MicroApp) -> EntityRef:
    entity = linked_entity(app)
    if entity is not None:
        return EntityRef.of(entity.document)
    return EntityRef("component", DEFAULT_NAMESPACE, names.entity_name(app.slug))


def team_ref(team) -> EntityRef:
    entity = linked_entity(team)
    if entity is not None:
        return EntityRef.of(entity.document)
    return EntityRef("group", DEFAULT_NAMESPACE, names.entity_name(team.slug))


def _annotations(app: MicroApp) -> dict[str, str]:
    co_owners = app.co_owner_usernames
    if co_owners is None:
        co_owners = sorted(person.get_username() for person in app.co_owners.all())
    values = {
        "slug": app.slug,
        "kind": app.kind,
        "environment": app.environment,
        "criticality": app.criticality,
        "runtime": app.runtime,
        "contact": app.contact,
        # Backstage has no co-owner field: spec.owner stays the team's group, and the people
        # travel as user references.
        "owner": f"user:{app.owner.get_username()}" if app.owner else "",
        "co-owners": ",".join(f"user:{name}" for name in co_owners),
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


def lifecycle(app: MicroApp) -> str:
    if app.deprecated:
        return "deprecated"
    return ENVIRONMENT_TO_LIFECYCLE.get(app.environment, "staging")


def _lifecycle_means_app(value: Any, app: MicroApp) -> bool:
    """Whether an entity's ``spec.lifecycle`` still says what the app is."""
    text = str(value or "").strip().lower()
    if text == "deprecated":
        return app.deprecated
    return not app.deprecated and LIFECYCLE_TO_ENVIRONMENT.get(text, "staging") == app.environment


def _changed(app: MicroApp, entity: BackstageEntity, name: str, *read: Any) -> bool:
    """Whether the app's ``name`` was changed here since the import: it differs from what
    the import wrote (``entity.imported``) or, without that record, from every reading of
    the entity (``read``)."""
    value = getattr(app, name)
    imported = entity.imported or {}
    if name in imported:
        return value != imported[name]
    return all(value != candidate for candidate in read)


def _overlay_links(app: MicroApp, entity: BackstageEntity, metadata: dict) -> None:
    links = metadata.get("links")
    urls = {link.get("url") for link in links or [] if isinstance(link, dict)}
    for name, title, words in LINK_FIELDS:
        url = getattr(app, name)
        previous = (entity.imported or {}).get(name)
        # Unchanged since the import, the link is the document's own: a link it lists, or
        # one the import read from an annotation (``github.com/project-slug``, TechDocs).
        if not url or url in urls or url == previous:
            continue
        links = metadata.setdefault("links", [])
        match = next(
            (link for link in links if isinstance(link, dict) and link.get("url") == previous),
            None,
        ) or next(
            (
                link
                for link in links
                if isinstance(link, dict)
                and any(
                    word in f"{link.get('title', '')} {link.get('type', '')}".lower()
                    for word in words
                )
            ),
            None,
        )
        if match is not None:
            match["url"] = url
        else:
            links.append({"url": url, "title": title})


def _team_unchanged(app: MicroApp, entity: BackstageEntity) -> bool:
    """Whether the app is still with the team the import gave it: as recorded, or, without
    a record, while its team has no group of its own that the export would name instead."""
    imported = entity.imported or {}
    if "team" in imported:
        return imported["team"] == app.team.slug
    return linked_entity(app.team) is None


def _owner(app: MicroApp, entity: BackstageEntity, spec: dict, ctx: ExportContext) -> str:
    """The entity's owner while it still names the app's team (or owner), else the team."""
    namespace = str((entity.document.get("metadata") or {}).get("namespace") or DEFAULT_NAMESPACE)
    written = spec.get("owner")
    if written:
        try:
            ref = EntityRef.parse(written, default_kind="group", default_namespace=namespace)
        except RefError:
            ref = None
        if ref is not None:
            team_id, person_id = ctx.group_teams.get(ref.key), ctx.user_people.get(ref.key)
            if team_id is not None:
                if team_id == app.team_id:
                    return written
            elif person_id is not None:
                if person_id == app.owner_id:
                    return written
            elif _team_unchanged(app, entity):
                # A group (or person) Appkeeper never mapped: nothing says it changed.
                return written
    return names.ref_text(team_ref(app.team), default_kind="group", namespace=namespace)


def _depends_on(app: MicroApp, namespace: str, written: list, *, everything: bool) -> list:
    """The entity's ``dependsOn`` as written, then the dependencies declared in Appkeeper
    (all of them for an app never imported), each once."""
    out = list(written)
    seen = set()
    for text in written:
        try:
            seen.add(
                EntityRef.parse(text, default_kind="component", default_namespace=namespace).key
            )
        except RefError:
            continue
    for link in app.dependency_links.all():
        if not everything and link.origin != "appkeeper":
            continue
        ref = app_ref(link.to_microapp)
        if ref.key not in seen:
            seen.add(ref.key)
            # dependsOn has no default kind in Backstage: the kind is always written.
            out.append(names.ref_text(ref, default_kind="", namespace=namespace))
    return out


def _from_document(app: MicroApp, entity: BackstageEntity, ctx: ExportContext) -> dict:
    document = stored_document(entity)
    metadata = document.setdefault("metadata", {})
    spec = document.setdefault("spec", {})
    namespace = str(metadata.get("namespace") or DEFAULT_NAMESPACE)
    written_name = str(metadata.get("name", ""))
    if _changed(app, entity, "name", metadata.get("title"), written_name):
        metadata["title"] = app.name
    description = metadata.get("description")
    if _changed(app, entity, "description", str(description or "").strip()):
        metadata["description"] = app.description
    written_tags = [str(t) for t in metadata.get("tags") or []]
    if _changed(app, entity, "tags", written_tags, names.tags(written_tags)):
        metadata["tags"] = names.tags(app.tags)
    _overlay_links(app, entity, metadata)
    # Kept while it says what the app is, or while neither was changed here since the
    # import (which may have registered a production entity without an SLA as staging).
    unchanged = "environment" in (entity.imported or {}) and not (
        _changed(app, entity, "environment") or _changed(app, entity, "deprecated", False)
    )
    if not (unchanged or _lifecycle_means_app(spec.get("lifecycle"), app)):
        spec["lifecycle"] = lifecycle(app)
    spec["owner"] = _owner(app, entity, spec, ctx)
    written_deps = spec.get("dependsOn") if isinstance(spec.get("dependsOn"), list) else []
    depends_on = _depends_on(app, namespace, written_deps, everything=False)
    if depends_on != written_deps:
        spec["dependsOn"] = depends_on
    annotations = metadata.get("annotations")
    metadata["annotations"] = {
        **(annotations if isinstance(annotations, dict) else {}),
        **_annotations(app),
    }
    return document


def _generated(app: MicroApp) -> dict:
    links = [
        {"url": getattr(app, name), "title": title}
        for name, title, _words in LINK_FIELDS
        if getattr(app, name)
    ]
    metadata: dict[str, Any] = {"name": names.entity_name(app.slug), "title": app.name}
    if app.description:
        metadata["description"] = app.description
    metadata |= {"tags": names.tags(app.tags), "links": links, "annotations": _annotations(app)}
    return {
        "apiVersion": API_VERSION,
        "kind": "Component",
        "metadata": metadata,
        "spec": {
            "type": KIND_TO_TYPE.get(app.kind, "service"),
            "lifecycle": lifecycle(app),
            "owner": names.ref_text(team_ref(app.team), default_kind="group"),
            "dependsOn": _depends_on(app, DEFAULT_NAMESPACE, [], everything=True),
        },
    }


def _api_for(component: dict, contract: Contract) -> dict:
    metadata = component["metadata"]
    api_metadata: dict[str, Any] = {
        "name": names.entity_name(f"{metadata['name']}-api"),
        "title": f"{metadata.get('title') or metadata['name']} API",
        "annotations": {f"{ANNOTATION}version": contract.version},
    }
    if metadata.get("namespace"):
        api_metadata = {
            "name": api_metadata["name"],
            "namespace": metadata["namespace"],
            **api_metadata,
        }
    definition = (
        contract.sdl
        if contract.kind == "graphql"
        else yaml.safe_dump(contract.document, sort_keys=False, allow_unicode=True)
    )
    return {
        "apiVersion": API_VERSION,
        "kind": "API",
        "metadata": api_metadata,
        "spec": {
            "type": contract.kind,
            "lifecycle": component["spec"].get("lifecycle") or "staging",
            "owner": component["spec"]["owner"],
            "definition": definition,
        },
    }


def app_entities(app: MicroApp, ctx: ExportContext) -> list[dict]:
    """The app's Component, then a generated API entity when it has a contract that no
    stored API entity it provides describes. Read ``app`` through :func:`export_queryset`."""
    entity = linked_entity(app)
    component = _generated(app) if entity is None else _from_document(app, entity, ctx)
    out = [component]
    contract = ctx.contracts.get(app.pk)
    if contract is None:
        return out
    spec = component["spec"]
    namespace = str(component["metadata"].get("namespace") or DEFAULT_NAMESPACE)
    provided = spec.get("providesApis") if isinstance(spec.get("providesApis"), list) else []
    for text in provided:
        try:
            if (
                EntityRef.parse(text, default_kind="api", default_namespace=namespace).key
                in ctx.api_refs
            ):
                return out
        except RefError:
            continue
    api = _api_for(component, contract)
    spec["providesApis"] = [*provided, api["metadata"]["name"]]
    out.append(api)
    return out


def provided_api_entities(components: Iterable[dict]) -> QuerySet[BackstageEntity]:
    """The stored API entities the components provide, in one query."""
    keys = set()
    for component in components:
        namespace = str(component["metadata"].get("namespace") or DEFAULT_NAMESPACE)
        for text in component.get("spec", {}).get("providesApis") or []:
            try:
                keys.add(EntityRef.parse(text, default_kind="api", default_namespace=namespace).key)
            except RefError:
                continue
    return BackstageEntity.objects.filter(kind="api", ref__in=keys)


def dump(entities: list[dict]) -> str:
    return yaml.safe_dump_all(entities, sort_keys=False, allow_unicode=True)


def export_app(app: MicroApp) -> str:
    """The app as a ``catalog-info.yaml``: its Component, then its API entities (those it
    provides that Appkeeper keeps, or one generated from its current contract)."""
    entities = app_entities(app, ExportContext.load([app]))
    entities += [stored_document(api) for api in provided_api_entities(entities[:1])]
    return dump(entities)
