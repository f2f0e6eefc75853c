"""A Component entity into an app: which app it is, who owns it, and which of its fields
follow the file.

Identity is the entity's full reference: the app linked to its ``BackstageEntity``. A new
Component in the default namespace takes the slug of its name (and adopts an app of that
slug that no entity holds, which is how an Appkeeper export re-imports); in another
namespace the slug carries the namespace and a numeric suffix when taken, so two
``billing`` in two namespaces are two apps.

Sync: what Backstage describes (name, description, kind, tags, links, ``deprecated``,
team) follows the file on every import. What Appkeeper owns once set there (environment,
SLA, the personal owner) is written only while the app still holds the value the last
import wrote (``BackstageEntity.imported``). State, reviews, expiry and telemetry are
never part of an import.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from catalog import permissions
from catalog.backstage.importer import (
    ANNOTATED_FIELDS,
    ANNOTATION,
    EntityResult,
    annotation_value,
    co_owners_here,
    message,
    slugify,
)
from catalog.backstage.refs import DEFAULT_NAMESPACE, EntityRef, RefError
from catalog.models import BackstageEntity, MicroApp, Team
from catalog.models.common import slug_validator

SLUG_MAX = 80
TYPE_TO_KIND = {"service": "service", "website": "ui"}
LIFECYCLE_TO_ENVIRONMENT = {
    "production": "production",
    "deprecated": "production",
    "experimental": "sandbox",
}
SLA_FIELDS = ("sla_availability", "sla_p95_ms", "sla_support_hours")
# Set in Appkeeper, these stay: the import writes them only while the app still holds what
# the last import wrote.
APPKEEPER_OWNED = ("environment", *SLA_FIELDS)
LINK_FIELDS = ("docs_url", "runbook_url", "repository_url")
# What ``BackstageEntity.imported`` remembers after each write.
REMEMBERED = (*APPKEEPER_OWNED, "owner", *LINK_FIELDS)
M2M_FIELDS = ("co_owners", "regions")
DEPRECATED_WARNING = "deprecated in Backstage: plan its retirement"
REPOSITORY_ANNOTATIONS = {
    "github.com/project-slug": "https://github.com/",
    "gitlab.com/project-slug": "https://gitlab.com/",
}
UNKNOWN_OWNER = "Unknown owner {ref}: import its Group entity first or in the same batch."


def tag(value: Any) -> str:
    text = str(value).strip()
    try:
        slug_validator(text)
    except Exception:
        return slugify(text)
    return text


def links(metadata: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for link in metadata.get("links") or []:
        if not isinstance(link, dict) or not link.get("url"):
            continue
        label = f"{link.get('title', '')} {link.get('icon', '')} {link.get('type', '')}".lower()
        if "runbook" in label:
            out.setdefault("runbook_url", str(link["url"]))
        elif any(word in label for word in ("github", "gitlab", "repo", "source")):
            out.setdefault("repository_url", str(link["url"]))
        elif any(word in label for word in ("doc", "wiki", "readme")):
            out.setdefault("docs_url", str(link["url"]))
    return out


def annotated_links(annotations: dict, location: str) -> dict[str, str]:
    """Repository and docs links Backstage plugins read from annotations."""
    out: dict[str, str] = {}
    for key, prefix in REPOSITORY_ANNOTATIONS.items():
        slug = str(annotations.get(key) or "").strip().strip("/")
        if slug and "repository_url" not in out:
            out["repository_url"] = prefix + slug
    techdocs = str(annotations.get("backstage.io/techdocs-ref") or "").strip()
    if techdocs.startswith("url:") and urlsplit(techdocs[4:]).scheme in ("http", "https"):
        out["docs_url"] = techdocs[4:]
    elif techdocs.startswith("dir:") and urlsplit(location).scheme in ("http", "https"):
        # Relative to the catalog file, as TechDocs reads it; an upload has no location.
        out["docs_url"] = urljoin(location, techdocs[4:])
    return out


def file_payload(doc: dict, location: str, result: EntityResult) -> tuple[dict, set[str]]:
    """What the file says, as app fields; and which fields it states through an
    ``appkeeper.io/`` annotation (an Appkeeper export says them on purpose)."""
    metadata = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    annotations = metadata.get("annotations") or {}
    lifecycle = str(spec.get("lifecycle", ""))
    payload: dict[str, Any] = {
        "name": str(metadata.get("title") or metadata.get("name") or ""),
        "description": (metadata.get("description") or "").strip(),
        "kind": TYPE_TO_KIND.get(str(spec.get("type", "")).lower(), "integration"),
        "environment": LIFECYCLE_TO_ENVIRONMENT.get(lifecycle, "staging"),
        "tags": list(dict.fromkeys(tag(t) for t in metadata.get("tags") or [] if tag(t))),
    }
    payload.update({**annotated_links(annotations, location), **links(metadata)})
    explicit: set[str] = set()
    for key, value in annotations.items():
        if key.startswith(ANNOTATION) and key[len(ANNOTATION) :] in ANNOTATED_FIELDS:
            name = ANNOTATED_FIELDS[key[len(ANNOTATION) :]]
            payload[name] = annotation_value(name, value)
            explicit.add(name)
    if "co_owners" in payload:
        payload["co_owners"] = co_owners_here(payload["co_owners"], result)
    if lifecycle == "deprecated":
        result.warnings.append(DEPRECATED_WARNING)
    elif not lifecycle:
        result.warnings.append("No spec.lifecycle; registered as staging.")
    return payload, explicit


def remembered(app: MicroApp) -> dict[str, Any]:
    """The app's values of the fields the import remembers, as JSON."""
    out: dict[str, Any] = {}
    for name in REMEMBERED:
        if name == "owner":
            value = app.owner.username if app.owner is not None else None
        else:
            value = getattr(app, name)
        if isinstance(value, Decimal):
            value = format(value.normalize(), "f")
        out[name] = value
    return out


class Owner:
    """Who a Component's ``spec.owner`` names here: the team, and the personal owner (a
    username, or None for a team-owned app)."""

    def __init__(self, team: Team, person: str | None) -> None:
        self.team, self.person = team, person


def resolve_owner(
    doc: dict, namespace: str, result: EntityResult, *, user, scope, batch_refs, dry_run
) -> Owner | None:
    raw = (doc.get("spec") or {}).get("owner")
    if not raw:
        result.errors.append({"field": "spec.owner", "message": "A Component needs an owner."})
        return None
    try:
        ref = EntityRef.parse(raw, default_kind="group", default_namespace=namespace)
    except RefError as exc:
        result.errors.append({"field": "spec.owner", "message": str(exc)})
        return None
    if ref.kind == "user":
        owner = _user_owner(ref, result)
    elif ref.kind == "group":
        owner = _group_owner(ref, result, user=user, in_batch=ref.key in batch_refs, dry=dry_run)
    else:
        result.errors.append(
            {"field": "spec.owner", "message": f"{ref}: an owner is a group or a user."}
        )
        return None
    if owner is not None and scope is not None and owner.team.pk != scope.pk:
        result.errors.append(
            {
                "field": "spec.owner",
                "message": f"This import is for team {scope.slug}; {raw!r} is another team.",
            }
        )
        return None
    return owner


def _user_owner(ref: EntityRef, result: EntityResult) -> Owner | None:
    entity = BackstageEntity.objects.filter(ref=ref.key).select_related("user").first()
    person = entity.user if entity is not None and entity.user_id else None
    if person is None:
        person = get_user_model().objects.filter(username=ref.name).first()
    team = (
        Team.objects.filter(members=person).order_by("name").first() if person is not None else None
    )
    if person is None or team is None:
        result.errors.append(
            {"field": "spec.owner", "message": f"Unknown owner {ref}: no such person in a team."}
        )
        return None
    return Owner(team, person.username)


def _group_owner(ref: EntityRef, result: EntityResult, *, user, in_batch, dry) -> Owner | None:
    entity = BackstageEntity.objects.filter(ref=ref.key).select_related("team__lead").first()
    team = entity.team if entity is not None and entity.team_id else None
    if team is None and ref.namespace == DEFAULT_NAMESPACE:
        team = Team.objects.select_related("lead").filter(slug=slugify(ref.name)).first()
    if team is None:
        if dry and in_batch:
            # The Group is in this batch: a dry run judges the Component as if it had been
            # imported (this stand-in is rolled back with the rest).
            team = team_from_ref(ref)
        elif permissions.is_platform(user):
            team = team_from_ref(ref)
            result.warnings.append(
                f"The Group entity {ref} was not imported: team {team.slug} was created from "
                "the reference; import the Group to give it members."
            )
        else:
            result.errors.append({"field": "spec.owner", "message": UNKNOWN_OWNER.format(ref=ref)})
            return None
    lead = team.lead if team.lead is not None and team.lead.is_active else None
    return Owner(team, lead.username if lead is not None else None)


def team_from_ref(ref: EntityRef) -> Team:
    base = slugify(
        ref.name if ref.namespace == DEFAULT_NAMESPACE else f"{ref.namespace}-{ref.name}"
    )
    slug, name = base[:100], ref.name[:100]
    taken = set(Team.objects.filter(slug__startswith=slug).values_list("slug", flat=True))
    names = set(Team.objects.filter(name__startswith=name).values_list("name", flat=True))
    n = 2
    while slug in taken or name in names:
        slug, name = f"{base[:95]}-{n}", f"{ref.name[:95]} ({n})"
        n += 1
    return Team.objects.create(name=name, slug=slug)


def new_slug(ref: EntityRef) -> str:
    """A free slug for a new Component outside the default namespace."""
    base = slugify(f"{ref.namespace}-{ref.name}")[:SLUG_MAX].strip("-")
    taken = set(MicroApp.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        suffix = f"-{n}"
        slug, n = base[: SLUG_MAX - len(suffix)].strip("-") + suffix, n + 1
    return slug


def find_app(
    entity: BackstageEntity, ref: EntityRef, result: EntityResult, user
) -> tuple[MicroApp | None, str]:
    """The app of the entity (or the one it adopts) and, for a new app, its slug; ``""``
    slug with an error in ``result`` when the name is taken."""
    if entity.app_id:
        return MicroApp.objects.select_related("team", "owner").get(pk=entity.app_id), ""
    # Appkeeper's own export names the app's slug when the entity name had to be shortened
    # to Backstage's 63 characters: the round trip lands on the same app.
    slug = appkeeper_annotation(entity.document, "slug")
    if not slug and ref.namespace != DEFAULT_NAMESPACE:
        return None, new_slug(ref)
    slug = slug or slugify(ref.name)[:SLUG_MAX].strip("-")
    existing = MicroApp.objects.select_related("team", "owner").filter(slug=slug).first()
    if existing is None:
        return None, slug
    held = BackstageEntity.objects.filter(app=existing).exists()
    if held or not permissions.can_edit(user, existing):
        # Exactly registration's answer for a taken slug: which team holds it, and whether
        # it is a draft the importer may not see, stays unsaid.
        from catalog.services import SLUG_TAKEN

        result.errors.append({"field": "metadata.name", "message": SLUG_TAKEN})
        return None, ""
    return existing, ""


def appkeeper_annotation(document: dict, key: str) -> str:
    """The value of ``appkeeper.io/<key>`` when it is a valid slug, else ``""``."""
    value = str(
        ((document.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION + key) or ""
    )
    try:
        slug_validator(value)
    except ValidationError:
        return ""
    return value


def sync_rules(payload: dict, explicit: set[str], app: MicroApp, imported: dict) -> None:
    """Drop from ``payload`` what Appkeeper owns now; clear links the file dropped."""
    now = remembered(app)
    for name in APPKEEPER_OWNED:
        if name not in payload:
            continue
        if name in imported:
            if now[name] != imported[name]:
                del payload[name]
        elif name not in explicit:
            # Adopted: an app Appkeeper registered keeps its environment and SLA unless
            # the file states them in Appkeeper's own annotations.
            del payload[name]
    for name in LINK_FIELDS:
        if name not in payload and imported.get(name) and now[name] == imported[name]:
            payload[name] = ""


def production_rule(payload: dict, app: MicroApp | None, result: EntityResult) -> None:
    if payload.get("environment") != "production":
        return
    sla = [payload.get(f, getattr(app, f) if app is not None else None) for f in SLA_FIELDS]
    if not all(sla):
        # Production apps need an SLA (policy production-needs-sla), which Backstage does not
        # describe: register the app as staging rather than refuse the whole import.
        payload["environment"] = "staging"
        result.warnings.append(
            "lifecycle production without appkeeper.io/sla-* annotations: registered as "
            "staging; declare the SLA, then switch the environment to production."
        )


def differs(app: MicroApp, data: dict) -> bool:
    for name, value in data.items():
        if name in M2M_FIELDS:
            if {o.pk for o in value} != set(getattr(app, name).values_list("pk", flat=True)):
                return True
        elif name in ("team", "owner"):
            if getattr(app, f"{name}_id") != (value.pk if value is not None else None):
                return True
        elif getattr(app, name) != value:
            return True
    return False


def import_component(
    doc: dict, entity: BackstageEntity, result: EntityResult, batch
) -> MicroApp | None:
    """Create, update or leave the app of one Component; None (with the errors in
    ``result``) when refused, and then nothing of it is written."""
    from catalog.api.serializers import MicroAppSerializer  # the API's own validation
    from catalog.services import app_register, app_update

    ref = EntityRef.parse(entity.ref)
    payload, explicit = file_payload(doc, entity.location, result)
    owner = resolve_owner(
        doc,
        ref.namespace,
        result,
        user=batch.user,
        scope=batch.scope,
        batch_refs=batch.refs,
        dry_run=batch.dry_run,
    )
    app, slug = find_app(entity, ref, result, batch.user)
    if result.errors:
        return None
    assert owner is not None
    payload["team"] = owner.team.slug
    write_owner = "owner" not in payload and (
        app is None or remembered(app)["owner"] == entity.imported.get("owner", owner.person)
    )
    if app is not None:
        sync_rules(payload, explicit, app, entity.imported)
    else:
        payload["slug"] = slug
    production_rule(payload, app, result)
    serializer = MicroAppSerializer(
        app, data=payload, partial=app is not None, context={"request": batch.request}
    )
    if not serializer.is_valid():
        result.errors.extend(
            {"field": f, "message": " ".join(str(m) for m in msgs)}
            for f, msgs in serializer.errors.items()
        )
        return None
    data = dict(serializer.validated_data)
    if write_owner:
        # Never the importer: the group's lead, or nobody (a team-owned app).
        data["owner"] = (
            get_user_model().objects.get(username=owner.person) if owner.person else None
        )
    data["deprecated"] = str((doc.get("spec") or {}).get("lifecycle", "")) == "deprecated"
    try:
        with transaction.atomic():
            if app is None:
                app, result.action = app_register(actor=batch.user, data=data), "created"
            elif differs(app, data):
                app, result.action = app_update(app=app, actor=batch.user, data=data), "updated"
            else:
                result.action = "unchanged"
    except Exception as exc:  # ValidationError from policies: report, don't 500
        result.errors.append({"field": "spec", "message": message(exc)})
        return None
    values = remembered(app)
    if entity.app_id != app.pk or entity.imported != values:
        entity.app, entity.imported = app, values
        entity.save(update_fields=["app", "imported", "updated_at"])
    return app
