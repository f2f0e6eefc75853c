"""SCIM Groups as Appkeeper teams: ``displayName`` is the team's name (its slug is made
once, on creation, and never changes, so links keep working), ``externalId`` the
directory's id and ``members`` the team's members. Teams own apps, so DELETE never deletes
one: it empties the team and forgets its directory id.

A group whose name a ``GroupMapping`` maps to the platform team or finance also gives its
members that role, and takes it away from those who leave the group."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as Role
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import AuditEvent, Team
from identity.models import GroupMapping, Person
from identity.scim import patch
from identity.scim.errors import invalid_path, invalid_value, mutability, uniqueness
from identity.scim.filters import Field
from identity.scim.resources import Selection, text, timestamp, value_matches, version

User = get_user_model()
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
FIELDS = {
    "id": Field("pk", "id"),
    "displayname": Field("name"),
    "externalid": Field("external_id", "exact"),
    "members": Field("members__pk", "id"),
    "members.value": Field("members__pk", "id"),
}
NAME_LIMIT = int(Team._meta.get_field("name").max_length or 100)


def queryset():
    return Team.objects.order_by("pk")


def location(request, team) -> str:
    return request.build_absolute_uri(reverse("scim:group", args=[team.pk]))


def current_version(team) -> str:
    return version(team.updated_at)


def to_resource(request, team, *, with_members: bool = True) -> dict:
    resource = {
        "schemas": [SCHEMA],
        "id": str(team.pk),
        "displayName": team.name,
        "meta": {
            "resourceType": "Group",
            "created": timestamp(team.created_at),
            "lastModified": timestamp(team.updated_at),
            "location": location(request, team),
            "version": current_version(team),
        },
    }
    if team.external_id:
        resource["externalId"] = team.external_id
    if with_members:
        resource["members"] = [
            {
                "value": str(member.pk),
                "display": member.get_full_name() or member.get_username(),
                "$ref": request.build_absolute_uri(reverse("scim:user", args=[member.pk])),
                "type": "User",
            }
            for member in team.members.all()
        ]
    return resource


def render(request, obj, selection: Selection) -> dict:
    return selection.apply(to_resource(request, obj, with_members=selection.wants("members")))


def state_of(team) -> dict:
    return {
        "displayName": team.name,
        "externalId": team.external_id,
        # From the prefetch the views make, when there is one.
        "members": {member.pk for member in team.members.all()},
    }


def _member_ids(value: object) -> set[int]:
    if isinstance(value, dict):
        value = [value]
    if value is None:
        return set()
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid_value('members must be a list of objects like {"value": "<user id>"}.')
    ids = set()
    for item in value:
        raw = str(item.get("value", "")).strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise invalid_value(f"members.value {raw[:40]!r} is not the id of a user.")
        ids.add(int(raw))
    return ids


def from_body(body: dict) -> dict:
    return {
        "displayName": body.get("displayName"),
        "externalId": body.get("externalId") or "",
        "members": _member_ids(body.get("members")),
    }


def _assign(state: dict, path: patch.Path, value: object, op: str) -> None:
    if path.attr in ("id", "meta", "schemas"):
        raise mutability(f"{path.attr} is read-only.")
    if path.attr == "displayname":
        if op == "remove":
            raise invalid_value("displayName is required and cannot be removed.")
        state["displayName"] = value
    elif path.attr == "externalid":
        state["externalId"] = "" if op == "remove" else value
    elif path.attr == "members":
        chosen = _member_ids(value)
        if path.filter is not None:
            current = state["members"]
            chosen |= {pk for pk in current if value_matches(path.filter, {"value": str(pk)})}
        if op == "add":
            state["members"] = state["members"] | chosen
        elif op == "replace":
            state["members"] = chosen
        elif path.filter is None and value is None:
            state["members"] = set()  # remove without a value or filter empties the group
        else:
            state["members"] = state["members"] - chosen
    else:
        raise invalid_path(f"Groups have no attribute {path.attr!r} to change.")


def apply_operations(state: dict, operations: list[patch.Operation]) -> dict:
    for operation in operations:
        if operation.path is not None:
            _assign(state, operation.path, operation.value, operation.op)
            continue
        for key, value in patch.flatten_value_object(operation.value).items():
            if key not in ("id", "meta", "schemas"):
                _assign(state, patch.Path(attr=key), value, operation.op)
    return state


def _clean(state: dict) -> dict:
    clean = {
        "displayName": text(state["displayName"], "displayName", limit=NAME_LIMIT, required=True),
        "externalId": text(state["externalId"], "externalId", limit=255),
        "members": state["members"],
    }
    found = set(User.objects.filter(pk__in=clean["members"]).values_list("pk", flat=True))
    unknown = sorted(clean["members"] - found)
    if unknown:
        raise invalid_value(f"No user with id {', '.join(map(str, unknown[:5]))}.")
    return clean


def _free_slug(name: str) -> str:
    base = (slugify(name) or "team")[:90].strip("-") or "team"
    taken = set(Team.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _grant_mapped_roles(team_name: str, added: set[int], removed: set[int]) -> None:
    """Members of a group mapped to the platform team or finance hold that Django group."""
    roles = GroupMapping.objects.filter(group__iexact=team_name).exclude(
        role=GroupMapping.Role.TEAM
    )
    for mapping in roles:
        role, _ = Role.objects.get_or_create(name=mapping.role)
        if added:
            role.user_set.add(*added)
        if removed:
            role.user_set.remove(*removed)


def _save(team, before: dict, after: dict, token, *, created: bool) -> None:
    if after["displayName"].lower() != (before.get("displayName") or "").lower():
        clash = Team.objects.filter(name__iexact=after["displayName"])
        if not created:
            clash = clash.exclude(pk=team.pk)
        if clash.exists():
            raise uniqueness(f"A team named {after['displayName']!r} already exists.")
    team.name = after["displayName"]
    team.external_id = after["externalId"]
    if created:
        team.slug = _free_slug(team.name)
    added = after["members"] - before.get("members", set())
    removed = before.get("members", set()) - after["members"]
    differences: dict[str, object] = {
        key: [before.get(key), after[key]]
        for key in ("displayName", "externalId")
        if before.get(key) != after[key]
    }
    if not (created or differences or added or removed):
        return
    try:
        with transaction.atomic():
            team.save()  # touches updated_at, membership changes included
    except IntegrityError:
        raise uniqueness(f"A team named {after['displayName']!r} already exists.") from None
    if added:
        team.members.add(*added)
    if removed:
        team.members.remove(*removed)
    _grant_mapped_roles(team.name, added, removed)
    _touch_people(added | removed)
    if added or removed:
        differences["members"] = {"added": sorted(added), "removed": sorted(removed)}
    AuditEvent.record(
        app=None,
        actor=None,
        action="scim_group_created" if created else "scim_group_updated",
        changes=differences,
        data={"team": team.slug, "team_id": team.pk, "via": "scim", "token": token.name},
    )


def _touch_people(user_ids: set[int]) -> None:
    """A user's resource lists their groups, so joining or leaving one is a new version of
    the user too: a directory holding the old ETag must not overwrite the new state."""
    if not user_ids:
        return
    Person.objects.bulk_create([Person(user_id=pk) for pk in user_ids], ignore_conflicts=True)
    Person.objects.filter(user_id__in=user_ids).update(updated_at=timezone.now())


@transaction.atomic
def create(body: dict, token) -> Team:
    after = _clean(from_body(body))
    team = Team()
    _save(team, {}, after, token, created=True)
    return team


@transaction.atomic
def update(team, state: dict, token) -> None:
    _save(team, state_of(team), _clean(state), token, created=False)


def replacement(body: dict) -> dict:
    return from_body(body)


@transaction.atomic
def retire(team, token) -> None:
    """DELETE: the team keeps its apps and history, loses its members and directory id."""
    _save(
        team,
        state_of(team),
        {**state_of(team), "externalId": "", "members": set()},
        token,
        created=False,
    )
