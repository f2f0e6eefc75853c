"""Backstage's organisation: Group entities become teams, User entities people.

The engine calls every Group of a batch first, then every User, then the Components, so an
owner group exists before the apps that name it. References that point at something not
imported yet (a parent group, a member) are kept as relations; whichever side arrives second
makes the link.

Sync semantics: the values an import writes are kept in ``entity.imported``. A field whose
value in Appkeeper still equals what the last import wrote (or is empty) follows the file; a
field someone changed in Appkeeper keeps that change. Team memberships work the same way:
``entity.imported["members"]`` lists the memberships Backstage made, and only those leave
when the file stops listing them, so people added in Appkeeper or by directory sync stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from catalog import permissions
from catalog.backstage.components import appkeeper_annotation
from catalog.backstage.importer import ANNOTATION, EntityResult
from catalog.backstage.refs import DEFAULT_NAMESPACE, EntityRef, RefError
from catalog.backstage.store import set_relations
from catalog.models import BackstageEntity, EntityKind, RelationType, Team
from identity.models import Person, Source

PLATFORM_ONLY = "Only the platform team imports Groups and Users."
SCOPED = "An import for one team takes no Groups or Users; the platform team imports those."
NAME_MAX = 100
DESCRIPTION_MAX = 2000
USER_FIELD_MAX = 150


def _refuse(result: EntityResult, message: str) -> None:
    result.action = "error"
    result.errors.append({"field": "kind", "message": message})


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _refs(
    values: Any, *, default_kind: str, namespace: str, field: str, result: EntityResult
) -> list[EntityRef]:
    """The references in a spec list; one that is not a reference is reported, not fatal."""
    if values is None:
        return []
    if not isinstance(values, list):
        result.warnings.append(f"{field} is not a list; ignored.")
        return []
    refs: list[EntityRef] = []
    for value in values:
        try:
            refs.append(
                EntityRef.parse(value, default_kind=default_kind, default_namespace=namespace)
            )
        except RefError as error:
            result.warnings.append(f"{field}: {error}")
    return refs


def _follows(current: Any, imported: dict, field: str) -> bool:
    """True while nobody changed ``field`` in Appkeeper since the last import wrote it."""
    return current in (None, "") or (field in imported and imported[field] == current)


def _valid_email(value: str, result: EntityResult) -> str:
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        result.warnings.append(f"spec.profile.email {value!r} is not an email address; ignored.")
        return ""
    return value


TEAM_FIELDS = {
    "name": "spec.profile.displayName",
    "description": "metadata.description",
    "contact_email": "spec.profile.email",
}
USER_FIELDS = {
    "username": "metadata.name",
    "email": "spec.profile.email",
    "first_name": "spec.profile.displayName",
    "last_name": "spec.profile.displayName",
}


def _valid(instance, result: EntityResult, fields: dict[str, str]) -> bool:
    """Check with the model's own validators before anything is written; what fails is
    reported on the entity's field."""
    try:
        instance.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as error:
        result.action = "error"
        for name, messages in error.message_dict.items():
            for message in messages:
                result.errors.append({"field": fields.get(name, name), "message": message})
        return False
    return True


def _ref_of(entity: BackstageEntity) -> EntityRef:
    return EntityRef(entity.kind, entity.namespace, entity.name)


# --- Group → team -------------------------------------------------------------------------


def _adoptable_team(ref: EntityRef, entity_document: dict) -> Team | None:
    """A team made in Appkeeper before Backstage was followed, by the group's slug."""
    # Appkeeper's own export names the team's slug (its Group name may have been shortened).
    annotated = appkeeper_annotation(entity_document, "slug")
    if not annotated and ref.namespace != DEFAULT_NAMESPACE:
        return None
    slug = annotated or slugify(ref.name)[:NAME_MAX]
    return Team.objects.filter(slug=slug, backstage_entity__isnull=True).first()


def _free(base: str, taken: set[str], *, separator: str = "-") -> str:
    candidate, suffix = base, 2
    while candidate.casefold() in taken:
        candidate, suffix = f"{base}{separator}{suffix}", suffix + 1
    return candidate


def _free_slug(ref: EntityRef) -> str:
    wanted = ref.name if ref.namespace == DEFAULT_NAMESPACE else f"{ref.namespace}-{ref.name}"
    base = (slugify(wanted)[: NAME_MAX - 4].strip("-") or "team").replace("_", "-")
    taken = set(Team.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    return _free(base, taken)


def _free_name(wanted: str, ref: EntityRef, team: Team | None) -> str:
    """``wanted`` unless another team has it: then ``wanted (namespace)``, then ``-2``..."""
    wanted = " ".join(wanted.split())[: NAME_MAX - 24]
    others = Team.objects.filter(name__istartswith=wanted)
    if team is not None:
        others = others.exclude(pk=team.pk)
    taken = {name.casefold() for name in others.values_list("name", flat=True)}
    if wanted.casefold() not in taken:
        return wanted
    if ref.namespace != DEFAULT_NAMESPACE:
        qualified = f"{wanted} ({ref.namespace[:20]})"
        if qualified.casefold() not in taken:
            return qualified
    return _free(wanted, taken)


def _team_values(
    doc: dict, ref: EntityRef, team: Team | None, imported: dict, result: EntityResult
) -> dict[str, Any]:
    """The team fields the file decides now (those changed in Appkeeper are left out)."""
    metadata, spec = _mapping(doc.get("metadata")), _mapping(doc.get("spec"))
    profile = _mapping(spec.get("profile"))
    titled = _text(profile.get("displayName")) or _text(metadata.get("title"))
    values: dict[str, Any] = {}
    if team is None or titled or team.name == imported.get("name"):
        values["name"] = _free_name(titled or ref.name, ref, team)
    description = _text(metadata.get("description"))
    if len(description) > DESCRIPTION_MAX:
        result.warnings.append(f"metadata.description cut to {DESCRIPTION_MAX} characters.")
        description = description[:DESCRIPTION_MAX]
    if team is None or _follows(team.description, imported, "description"):
        values["description"] = description
    email = _valid_email(_text(profile.get("email")), result)
    if team is None or _follows(team.contact_email, imported, "contact_email"):
        values["contact_email"] = email
    return values


def _parent_follows(team: Team | None, imported: dict) -> bool:
    if team is None or team.parent is None:
        return True
    parent_entity = getattr(team.parent, "backstage_entity", None)
    return parent_entity is not None and parent_entity.ref == imported.get("parent")


def _group_member_ids(entity: BackstageEntity, members: list[EntityRef]) -> set[int]:
    """The people the group has, by its ``spec.members`` or by their ``spec.memberOf``."""
    listed = Q(ref__in=[member.key for member in members])
    joining = Q(relations__type=RelationType.MEMBER_OF, relations__target_ref=entity.ref)
    ids = set(
        BackstageEntity.objects.filter(kind=EntityKind.USER, user__isnull=False)
        .filter(listed | joining)
        .values_list("user_id", flat=True)
        .distinct()
    )
    # People Appkeeper already knows (signed in, provisioned) whom no User entity claims:
    # ``members: [carol]`` means the account carol, as a ``user:`` owner does.
    usernames = [m.name for m in members if m.namespace == DEFAULT_NAMESPACE]
    if usernames:
        ids |= set(
            get_user_model()
            .objects.filter(username__in=usernames, is_active=True, backstage_entity__isnull=True)
            .values_list("pk", flat=True)
        )
    return ids


def import_group(
    doc: dict, entity: BackstageEntity, result: EntityResult, *, user, scope=None
) -> Team | None:
    """The team of a Group entity, or None with the reason in ``result``."""
    if scope is not None:
        _refuse(result, SCOPED)
        return None
    ref = _ref_of(entity)
    spec = _mapping(doc.get("spec"))
    parents = _refs(
        [spec["parent"]] if spec.get("parent") else [],
        default_kind=EntityKind.GROUP,
        namespace=ref.namespace,
        field="spec.parent",
        result=result,
    )
    members = _refs(
        spec.get("members"),
        default_kind=EntityKind.USER,
        namespace=ref.namespace,
        field="spec.members",
        result=result,
    )
    set_relations(entity, RelationType.CHILD_OF, parents)
    set_relations(entity, RelationType.HAS_MEMBER, members)

    team = entity.team
    adopting = _adoptable_team(ref, doc) if team is None else None
    current = team or adopting
    if current is not None:
        current = Team.objects.select_related("parent__backstage_entity").get(pk=current.pk)
    imported = dict(entity.imported or {})
    values = {
        field: value
        for field, value in _team_values(doc, ref, current, imported, result).items()
        if current is None or getattr(current, field) != value
    }
    parent_key = parents[0].key if parents else None
    if _parent_follows(current, imported):
        parent = Team.objects.filter(backstage_entity__ref=parent_key).first() if parents else None
        if parent is not None and current is not None and parent.pk == current.pk:
            result.warnings.append("spec.parent names the group itself; ignored.")
            parent = None
        if current is None or current.parent_id != (parent.pk if parent else None):
            values["parent"] = parent
        if parents and parent is None:
            result.warnings.append(f"Parent {parent_key} is not imported yet; linked when it is.")

    wanted = _group_member_ids(entity, members)
    made = set(imported.get("members", []))
    present = set()
    if current is not None:
        present = set(current.members.filter(pk__in=wanted | made).values_list("pk", flat=True))
    joining, leaving = wanted - present, (made - wanted) & present
    waiting_children = Team.objects.filter(
        parent__isnull=True,
        backstage_entity__relations__type=RelationType.CHILD_OF,
        backstage_entity__relations__target_ref=entity.ref,
    )
    if current is not None:
        waiting_children = waiting_children.exclude(pk=current.pk)
    children = list(waiting_children.values_list("pk", flat=True))

    changed = bool(current is None or adopting or values or joining or leaving or children)
    if changed and not permissions.is_platform(user):
        _refuse(result, PLATFORM_ONLY)
        return None

    if current is None:
        current = Team(slug=_free_slug(ref), **values)
        if not _valid(current, result, TEAM_FIELDS):
            return None
        current.save()
        result.action = "created"
    elif values:
        for field, value in values.items():
            setattr(current, field, value)
        if not _valid(current, result, TEAM_FIELDS):
            return None
        current.save(update_fields=[*values, "updated_at"])
    if joining:
        current.members.add(*joining)
    if leaving:
        current.members.remove(*leaving)
    if children:
        Team.objects.filter(pk__in=children).update(parent=current, updated_at=timezone.now())
    result.action = result.action or ("updated" if changed else "unchanged")

    remembered = {
        **imported,
        "name": current.name,
        "description": current.description,
        "contact_email": current.contact_email,
        "parent": parent_key,
        "members": sorted((made & wanted) | joining),
    }
    if entity.team_id != current.pk or remembered != entity.imported:
        entity.team, entity.imported = current, remembered
        entity.save(update_fields=["team", "imported", "updated_at"])
    return current


# --- User → person ------------------------------------------------------------------------


def _adoptable_user(ref: EntityRef, email: str, entity_document: dict):
    """An account that exists already, by email (one only) or by username, and that no
    other User entity claims."""
    users = get_user_model().objects.filter(backstage_entity__isnull=True)
    if email:
        by_email = list(users.filter(email__iexact=email)[:2])
        if len(by_email) == 1:
            return by_email[0]
    annotations = (entity_document.get("metadata") or {}).get("annotations") or {}
    annotated = str(annotations.get(f"{ANNOTATION}username") or "").strip()
    if annotated:
        return users.filter(username=annotated).first()
    if ref.namespace == DEFAULT_NAMESPACE:
        return users.filter(username__iexact=ref.name).first()
    return None


def _free_username(ref: EntityRef) -> str:
    wanted = ref.name if ref.namespace == DEFAULT_NAMESPACE else f"{ref.namespace}-{ref.name}"
    base = wanted[: USER_FIELD_MAX - 4]
    taken = {
        name.casefold()
        for name in get_user_model()
        .objects.filter(username__istartswith=base)
        .values_list("username", flat=True)
    }
    return _free(base, taken)


def _user_values(doc: dict, ref: EntityRef, person, imported: dict, result) -> dict[str, str]:
    profile = _mapping(_mapping(doc.get("spec")).get("profile"))
    words = _text(profile.get("displayName")).split()
    first, last = (words[0], " ".join(words[1:])) if words else ("", "")
    wanted = {
        "email": _valid_email(_text(profile.get("email")), result),
        "first_name": first[:USER_FIELD_MAX],
        "last_name": last[:USER_FIELD_MAX],
    }
    values = {
        field: value
        for field, value in wanted.items()
        if person is None
        or (_follows(getattr(person, field), imported, field) and getattr(person, field) != value)
    }
    email = values.get("email")
    if email:
        others = get_user_model().objects.filter(email__iexact=email)
        if person is not None:
            others = others.exclude(pk=person.pk)
        owner = others.values_list("username", flat=True).first()
        if owner is not None:
            # Two accounts with one address would leave single sign-on unable to choose.
            result.warnings.append(
                f"{email} is the address of another account ({owner}); not copied."
            )
            values["email"] = ""
            if person is not None:
                del values["email"]
    return values


def _memberships(entity: BackstageEntity, groups: list[EntityRef], person):
    """The group entities that want this person (by ``memberOf`` or by their
    ``spec.members``) and those whose team holds the person now."""
    wanting = list(
        BackstageEntity.objects.filter(kind=EntityKind.GROUP, team__isnull=False)
        .filter(
            Q(ref__in=[group.key for group in groups])
            | Q(relations__type=RelationType.HAS_MEMBER, relations__target_ref=entity.ref)
        )
        .distinct()
    )
    holding: list[BackstageEntity] = []
    member_of: set[int] = set()
    if person is not None:
        member_of = set(person.appkeeper_teams.values_list("pk", flat=True))
        holding = list(
            BackstageEntity.objects.filter(kind=EntityKind.GROUP, team_id__in=member_of).exclude(
                pk__in=[group.pk for group in wanting]
            )
        )
    return wanting, holding, member_of


def _membership_changes(
    wanting: Iterable[BackstageEntity],
    holding: Iterable[BackstageEntity],
    member_of: set[int],
    person_pk: int | None,
) -> tuple[list[BackstageEntity], list[BackstageEntity]]:
    joins = [group for group in wanting if group.team_id not in member_of]
    leaves = [group for group in holding if person_pk in (group.imported or {}).get("members", [])]
    return joins, leaves


def import_user(
    doc: dict, entity: BackstageEntity, result: EntityResult, *, user, scope=None
) -> Any:
    """The person of a User entity, or None with the reason in ``result``."""
    if scope is not None:
        _refuse(result, SCOPED)
        return None
    ref = _ref_of(entity)
    spec = _mapping(doc.get("spec"))
    groups = _refs(
        spec.get("memberOf"),
        default_kind=EntityKind.GROUP,
        namespace=ref.namespace,
        field="spec.memberOf",
        result=result,
    )
    set_relations(entity, RelationType.MEMBER_OF, groups)

    person = entity.user
    email = _valid_email(_text(_mapping(spec.get("profile")).get("email")), EntityResult("", ""))
    adopting = _adoptable_user(ref, email, doc) if person is None else None
    current = person or adopting
    imported = dict(entity.imported or {})
    values = _user_values(doc, ref, current, imported, result)
    wanting, holding, member_of = _memberships(entity, groups, current)
    joins, leaves = _membership_changes(wanting, holding, member_of, current and current.pk)
    changed = bool(current is None or adopting or values or joins or leaves)
    if changed and not permissions.is_platform(user):
        _refuse(result, PLATFORM_ONLY)
        return None
    if current is not None and not current.is_active:
        result.warnings.append(f"{current.get_username()} is deactivated and stays so.")

    if current is None:
        current = get_user_model()(username=_free_username(ref), **values)
        current.set_unusable_password()
        if not _valid(current, result, USER_FIELDS):
            return None
        current.save()
        Person.objects.create(user=current, source=Source.BACKSTAGE)
        result.action = "created"
    elif values:
        for field, value in values.items():
            setattr(current, field, value)
        if not _valid(current, result, USER_FIELDS):
            return None
        current.save(update_fields=list(values))
    joining = [group.team_id for group in joins if group.team_id is not None]
    leaving = [group.team_id for group in leaves if group.team_id is not None]
    if joining:
        current.appkeeper_teams.add(*joining)
    if leaving:
        current.appkeeper_teams.remove(*leaving)
    touched = []
    for group in joins:
        made = set((group.imported or {}).get("members", [])) | {current.pk}
        group.imported = {**(group.imported or {}), "members": sorted(made)}
        touched.append(group)
    for group in leaves:
        made = set(group.imported.get("members", [])) - {current.pk}
        group.imported = {**group.imported, "members": sorted(made)}
        touched.append(group)
    if touched:
        BackstageEntity.objects.bulk_update(touched, ["imported"])
    result.action = result.action or ("updated" if changed else "unchanged")

    remembered = {
        **imported,
        "email": current.email,
        "first_name": current.first_name,
        "last_name": current.last_name,
    }
    if entity.user_id != current.pk or remembered != entity.imported:
        entity.user, entity.imported = current, remembered
        entity.save(update_fields=["user", "imported", "updated_at"])
    return current
