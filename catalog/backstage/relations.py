"""The references between entities, made into links between apps whichever side arrives
first: ``dependsOn`` and ``consumesApis`` become dependencies, ``providesApis`` attaches an
API entity's definition to the app as a contract version.

Every reference is first recorded as a :class:`~catalog.models.BackstageRelation`, so the
side that arrives second finds the first with one indexed query: a Component links to the
apps that exist, and an entity arriving later links the apps that were waiting for it.
Links made here carry ``origin="backstage"``: they follow the file, so a reference the
file no longer lists is unlinked on the next import. A link declared in Appkeeper
(``origin="appkeeper"``) is never removed, and never relabelled.

Each function's query count depends on the entity's own references, never on the size of
the catalog: targets, providers and waiting dependents are each read in one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from catalog import permissions
from catalog.backstage.importer import EntityResult
from catalog.backstage.refs import DEFAULT_NAMESPACE, EntityRef, RefError
from catalog.backstage.store import set_relations
from catalog.contract_services import (
    VERSION_LABEL_MESSAGE,
    contract_upload,
    valid_version_label,
)
from catalog.models import BackstageEntity, BackstageRelation, Dependency, MicroApp
from catalog.models.backstage import RelationType
from contracts import ContractError, load_document, validate_contract

ORIGIN = "backstage"
# The API types whose definitions Appkeeper validates and diffs; others are kept verbatim.
CHECKED_API_TYPES = ("openapi", "graphql")
VERSION_ANNOTATION = "appkeeper.io/version"
# Backstage catalogs name Resources (databases, buckets) in dependsOn all the time: they are
# kept as relations without a word, where other kinds get one line.
QUIET_KINDS = ("resource",)
SPEC_REFERENCES = (
    ("dependsOn", "component", RelationType.DEPENDS_ON),
    ("providesApis", "api", RelationType.PROVIDES_API),
    ("consumesApis", "api", RelationType.CONSUMES_API),
)


def component_written(
    app: MicroApp,
    entity: BackstageEntity,
    result: EntityResult,
    *,
    user,
    dry_run: bool,
    in_batch: frozenset[str] = frozenset(),
) -> None:
    """After a Component's app was created or updated: record its references, link the
    apps it names that exist, and link the apps that were waiting for it. A target among
    ``in_batch`` (the references of the same import) is linked when its turn comes, so it
    is not reported as missing."""
    declared = _declared(entity, result)
    for _field, _kind, type_ in SPEC_REFERENCES:
        set_relations(entity, type_, declared[type_])
    components = [ref for ref in declared[RelationType.DEPENDS_ON] if ref.kind == "component"]
    found = _component_apps(components, user)
    for ref in components:
        if ref.key not in found and ref.key not in in_batch:
            result.warnings.append(
                f"dependsOn {ref}: not in the catalog yet; linked as soon as it arrives."
            )
    others = [
        str(ref)
        for ref in declared[RelationType.DEPENDS_ON]
        if ref.kind != "component" and ref.kind not in QUIET_KINDS
    ]
    if others:
        result.warnings.append(
            f"dependsOn {', '.join(others)}: kept as Backstage relations; "
            "only Components become dependencies."
        )
    consumed = _providers({ref.key for ref in declared[RelationType.CONSUMES_API]})
    wanted = set(found.values()).union(*consumed.values()) - {app.pk}
    _follow_file(app, wanted)
    provided = _provided_by(app, entity, declared[RelationType.PROVIDES_API])
    _link_waiting(app, entity, provided)
    _attach_provided(app, provided, result, user=user, dry_run=dry_run)


def api_stored(
    entity: BackstageEntity,
    result: EntityResult,
    *,
    user,
    dry_run: bool,
    in_batch: frozenset[str] = frozenset(),
) -> None:
    """After an API entity was stored: its definition becomes a contract version of each
    app that provides it, and the apps that consume it depend on those apps."""
    providers = _providers({entity.ref}).get(entity.ref, set())
    consumers = _referrers(RelationType.CONSUMES_API, {entity.ref})
    _link((consumer, provider) for consumer in consumers for provider in providers)
    spec = entity.document.get("spec") or {}
    api_type = str(spec.get("type", "")).strip().lower()
    if api_type not in CHECKED_API_TYPES:
        result.action = "skipped"
        result.warnings.append(f"API type {api_type or '?'} is kept but not checked.")
        return
    definition = _definition(entity)
    version = _version(entity, result)
    if version is None:
        return
    if not definition:
        if not result.errors:
            result.action = "skipped"
            result.warnings.append("No definition to check; the entity is kept as read.")
        return
    if not providers:
        # Kept, and attached when a Component names it in providesApis: report now what is
        # wrong with it, not when that Component arrives.
        _, errors = _check(definition, api_type)
        if errors:
            _fail(result, errors)
            return
        result.action = result.action or "created"
        if entity.ref not in in_batch:  # a dry run rolled its provider back
            result.warnings.append("No Component provides it yet; attached when one does.")
        return
    created = False
    for app in MicroApp.objects.filter(pk__in=providers).order_by("slug"):
        if not permissions.can_edit(user, app):
            result.warnings.append(f"Not attached to {app.slug}: you may not edit that app.")
            continue
        outcome, errors = _upload(app, definition, api_type, version, user=user, dry_run=dry_run)
        if errors:
            _fail(result, errors)
            return
        created = created or outcome == "created"
    if created:
        result.action = "updated" if result.action in ("updated", "unchanged") else "created"
    else:
        result.action = result.action or "unchanged"


def app_registered(app: MicroApp) -> None:
    """An app registered in Appkeeper may be the target a Backstage ``dependsOn`` waited
    for (``component:default/<slug>``)."""
    waiting = _referrers(RelationType.DEPENDS_ON, {_implied_ref(app)})
    _link((dependent, app.pk) for dependent in waiting if dependent != app.pk)


def _declared(entity: BackstageEntity, result: EntityResult) -> dict[str, list[EntityRef]]:
    """The references of the Component's spec, read as Backstage reads them: the kind from
    the field, the namespace from the entity."""
    spec = entity.document.get("spec") or {}
    declared: dict[str, list[EntityRef]] = {}
    for field_name, kind, type_ in SPEC_REFERENCES:
        raw = spec.get(field_name) or []
        refs: list[EntityRef] = []
        for text in [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []:
            try:
                refs.append(
                    EntityRef.parse(text, default_kind=kind, default_namespace=entity.namespace)
                )
            except RefError as exc:
                result.warnings.append(f"spec.{field_name}: {exc}")
        declared[type_] = refs
    return declared


def _implied_ref(app: MicroApp) -> str:
    """The reference a default-namespace Component would have for ``app``."""
    return f"component:{DEFAULT_NAMESPACE}/{app.slug}"


def _component_apps(refs: list[EntityRef], user) -> dict[str, int]:
    """The app of each Component reference that has one: its entity's app, or for the
    default namespace an app of that slug the importer sees that no other namespace
    holds."""
    keys = {ref.key for ref in refs}
    if not keys:
        return {}
    found = dict(
        BackstageEntity.objects.filter(ref__in=keys, app__isnull=False).values_list("ref", "app_id")
    )
    by_slug = {
        ref.name.lower(): ref.key
        for ref in refs
        if ref.namespace == DEFAULT_NAMESPACE and ref.key not in found
    }
    if by_slug:
        rows = (
            MicroApp.objects.visible_to(user)
            .filter(slug__in=by_slug)
            .filter(
                Q(backstage_entity__isnull=True) | Q(backstage_entity__namespace=DEFAULT_NAMESPACE)
            )
            .values_list("slug", "pk")
        )
        found.update({by_slug[slug]: pk for slug, pk in rows})
    return found


def _providers(api_keys: set[str]) -> dict[str, set[int]]:
    """The apps providing each API: those whose Components list it in providesApis, or,
    when none does, the Component of the same name in the same namespace."""
    if not api_keys:
        return {}
    providers: dict[str, set[int]] = defaultdict(set)
    rows = BackstageRelation.objects.filter(
        type=RelationType.PROVIDES_API, target_ref__in=api_keys, entity__app__isnull=False
    ).values_list("target_ref", "entity__app_id")
    for target, app_id in rows:
        providers[target].add(app_id)
    namesakes = {}
    for key in api_keys - providers.keys():
        ref = EntityRef.parse(key)
        namesakes[EntityRef("component", ref.namespace, ref.name).key] = key
    if namesakes:
        same_name = BackstageEntity.objects.filter(
            ref__in=namesakes, app__isnull=False
        ).values_list("ref", "app_id")
        for component, app_id in same_name:
            providers[namesakes[component]].add(app_id)
    return dict(providers)


def _referrers(type_: str, targets: set[str]) -> set[int]:
    """The apps whose entities reference any of ``targets`` with ``type_``."""
    return set(
        BackstageRelation.objects.filter(
            type=type_, target_ref__in=targets, entity__app__isnull=False
        ).values_list("entity__app_id", flat=True)
    )


def _provided_by(app: MicroApp, entity: BackstageEntity, declared: list[EntityRef]) -> set[str]:
    """The API references ``app`` provides: those it declares, and the API of its own name
    when no Component declares that one."""
    namesake = EntityRef("api", entity.namespace, entity.name).key
    candidates = {ref.key for ref in declared} | {namesake}
    return {key for key, apps in _providers(candidates).items() if app.pk in apps}


def _follow_file(app: MicroApp, wanted: set[int]) -> None:
    """Make ``app``'s Backstage links exactly ``wanted``; its Appkeeper links stay."""
    current = dict(
        Dependency.objects.filter(from_microapp=app).values_list("to_microapp_id", "origin")
    )
    gone = [pk for pk, origin in current.items() if origin == ORIGIN and pk not in wanted]
    if gone:
        Dependency.objects.filter(from_microapp=app, to_microapp_id__in=gone).delete()
    _link((app.pk, pk) for pk in wanted if pk not in current)


def _link_waiting(app: MicroApp, entity: BackstageEntity, provided: set[str]) -> None:
    """Link the apps that name this one (by dependsOn, or by consuming an API it provides)
    and unlink the Backstage links to it that nothing names any more (an API it stopped
    providing, a reference to a name it no longer has)."""
    targets = {entity.ref}
    if entity.namespace == DEFAULT_NAMESPACE:
        targets.add(_implied_ref(app))
    named = _referrers(RelationType.DEPENDS_ON, targets)
    # Catalogs also name the providing Component itself in consumesApis (Backstage's own
    # examples do: ``consumesApis: ['component:artist-lookup']``).
    named |= _referrers(RelationType.CONSUMES_API, targets | provided)
    named.discard(app.pk)
    Dependency.objects.filter(to_microapp=app, origin=ORIGIN).exclude(
        from_microapp_id__in=named
    ).delete()
    _link((dependent, app.pk) for dependent in named)


def _link(pairs: Iterable[tuple[int, int]]) -> None:
    """Create the missing links; one that exists (whatever its origin) is left as it is."""
    links = [
        Dependency(from_microapp_id=source, to_microapp_id=target, origin=ORIGIN)
        for source, target in set(pairs)
        if source != target
    ]
    if links:
        Dependency.objects.bulk_create(links, ignore_conflicts=True)


def _attach_provided(
    app: MicroApp, provided: set[str], result: EntityResult, *, user, dry_run: bool
) -> None:
    """Upload the definition of each stored API the app provides. A broken definition is
    the API entity's error, reported where it is imported; here it is a warning."""
    if not provided:
        return
    apis = BackstageEntity.objects.filter(ref__in=provided, kind="api").order_by("ref")
    for api in apis:
        api_type = str((api.document.get("spec") or {}).get("type", "")).strip().lower()
        definition = _definition(api)
        if api_type not in CHECKED_API_TYPES or not definition:
            continue
        problems = EntityResult("API", api.name)
        version = _version(api, problems)
        errors = problems.errors
        if version is not None:
            _, errors = _upload(app, definition, api_type, version, user=user, dry_run=dry_run)
        if errors:
            first = errors[0]
            result.warnings.append(
                f"API {api.ref} not attached: {first['field']}: {first['message']}"
            )


def _definition(entity: BackstageEntity) -> str:
    """The resolved definition, or the inline one of an entity stored without it."""
    if entity.definition.strip():
        return entity.definition
    inline = (entity.document.get("spec") or {}).get("definition")
    return inline if isinstance(inline, str) and inline.strip() else ""


def _version(entity: BackstageEntity, result: EntityResult) -> str | None:
    """The ``appkeeper.io/version`` label ("" for none), or None when it is invalid."""
    annotations = (entity.document.get("metadata") or {}).get("annotations") or {}
    version = str(annotations.get(VERSION_ANNOTATION, "")).strip()
    if version and not valid_version_label(version):
        _fail(
            result,
            [
                {
                    "field": f"metadata.annotations.{VERSION_ANNOTATION}",
                    "message": VERSION_LABEL_MESSAGE,
                }
            ],
        )
        return None
    return version


def _fail(result: EntityResult, errors: list[dict[str, str]]) -> None:
    result.action = "error"
    result.errors.extend(errors[:20])


def _check(definition: str, api_type: str, app: MicroApp | None = None) -> tuple[str, list]:
    """Validate without storing: ("created" or, when ``app`` already has this document,
    "unchanged", []) or ("", errors)."""
    try:
        document = load_document(definition, api_type)
        found = validate_contract(document).errors
    except ContractError as exc:
        found = exc.errors
    if found:
        return "", [{"field": e["path"], "message": e["message"]} for e in found[:20]]
    stored = app is not None and app.contracts.not_withdrawn().filter(sha256=document.sha256)
    return ("unchanged" if stored and stored.exists() else "created"), []


def _upload(
    app: MicroApp, definition: str, api_type: str, version: str, *, user, dry_run: bool
) -> tuple[str, list[dict[str, str]]]:
    """Store the definition as a contract version of ``app`` in a savepoint: ("created" or
    "unchanged", []) or ("", errors). A dry run only validates."""
    if dry_run:
        return _check(definition, api_type, app)
    try:
        with transaction.atomic():
            _, created = contract_upload(
                app=app, actor=user, content=definition, kind=api_type, version=version
            )
    except ContractError as exc:
        return "", [{"field": e["path"], "message": e["message"]} for e in exc.errors[:20]]
    except (ValidationError, PermissionDenied) as exc:  # policy refusals: reported, not a 500
        return "", [{"field": "spec.definition", "message": _message(exc)}]
    return ("created" if created else "unchanged"), []


def _message(exc: Exception) -> str:
    messages = getattr(exc, "message_dict", None) or {"": getattr(exc, "messages", [str(exc)])}
    return "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in messages.items())
