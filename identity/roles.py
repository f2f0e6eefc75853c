"""Directory groups to Appkeeper roles: which groups give the platform team, finance and
team memberships, and bringing one person's roles in line with their groups.

Two sources of mappings add up: ``GroupMapping`` rows (the platform team's page at
``/settings/sign-in/``) and ``APPKEEPER_OIDC_GROUP_MAP`` from the environment. Only what
some mapping mentions is managed: a role no mapping gives, or a membership of a team no
mapping names, was granted by hand and stays whatever the directory says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP
from catalog.models import AuditEvent, Team
from config.env import GROUP_MAP_TEAM_PREFIX
from core.types import SignedInUser
from identity.models import GroupMapping

ROLE_GROUPS = (PLATFORM_GROUP, FINANCE_GROUP)
ROLES_SYNCED = "roles_synced"


@dataclass(frozen=True)
class EnvMapping:
    """One target of ``APPKEEPER_OIDC_GROUP_MAP``, for the mapping page to show."""

    group: str
    role: str  # a GroupMapping.Role value
    team_slug: str = ""
    team: Team | None = None


@dataclass
class Mappings:
    """Every mapping, resolved: which roles and teams are managed, and who gives them."""

    roles_by_group: dict[str, set[str]] = field(default_factory=dict)
    teams_by_group: dict[str, set[int]] = field(default_factory=dict)
    managed_roles: set[str] = field(default_factory=set)
    managed_teams: set[int] = field(default_factory=set)

    def add_role(self, group: str, role: str) -> None:
        self.roles_by_group.setdefault(group, set()).add(role)
        self.managed_roles.add(role)

    def add_team(self, group: str, team_id: int) -> None:
        self.teams_by_group.setdefault(group, set()).add(team_id)
        self.managed_teams.add(team_id)


@dataclass(frozen=True)
class RoleChanges:
    added_roles: list[str]
    removed_roles: list[str]
    joined_teams: list[str]
    left_teams: list[str]

    def __bool__(self) -> bool:
        return bool(self.added_roles or self.removed_roles or self.joined_teams or self.left_teams)


def env_mappings() -> list[EnvMapping]:
    """``APPKEEPER_OIDC_GROUP_MAP`` as rows, teams looked up in one query; a slug naming no
    team is kept (with ``team=None``) so the page can say so."""
    pairs = [
        (group, target)
        for group, targets in settings.APPKEEPER_OIDC_GROUP_MAP.items()
        for target in targets
    ]
    slugs = {t.removeprefix(GROUP_MAP_TEAM_PREFIX) for _, t in pairs if t not in ROLE_GROUPS}
    teams = Team.objects.in_bulk(slugs, field_name="slug") if slugs else {}
    out = []
    for group, target in pairs:
        if target in ROLE_GROUPS:
            out.append(EnvMapping(group=group, role=target))
        else:
            slug = target.removeprefix(GROUP_MAP_TEAM_PREFIX)
            role = GroupMapping.Role.TEAM
            out.append(EnvMapping(group=group, role=role, team_slug=slug, team=teams.get(slug)))
    return out


def load_mappings() -> Mappings:
    """Both sources in two queries, however many mappings there are."""
    mappings = Mappings()
    for row in GroupMapping.objects.all():
        if row.role == GroupMapping.Role.TEAM and row.team_id is not None:
            mappings.add_team(row.group, row.team_id)
        else:
            mappings.add_role(row.group, row.role)
    for entry in env_mappings():
        if entry.role != GroupMapping.Role.TEAM:
            mappings.add_role(entry.group, entry.role)
        elif entry.team is not None:
            mappings.add_team(entry.group, entry.team.pk)
    return mappings


@transaction.atomic
def sync_roles(user: SignedInUser, directory_groups: Iterable[str], *, via: str) -> RoleChanges:
    """Give ``user`` exactly the managed roles and team memberships their directory groups
    map to, leaving everything unmanaged alone; one audit event when anything changed."""
    groups = set(directory_groups)
    mappings = load_mappings()
    wanted_roles = set().union(*(mappings.roles_by_group.get(g, set()) for g in groups))
    wanted_teams = set().union(*(mappings.teams_by_group.get(g, set()) for g in groups))
    has_roles = set(
        user.groups.filter(name__in=mappings.managed_roles).values_list("name", flat=True)
    )
    has_teams = set(
        user.appkeeper_teams.filter(pk__in=mappings.managed_teams).values_list("pk", flat=True)
    )
    add_roles, drop_roles = wanted_roles - has_roles, has_roles - wanted_roles
    join, leave = wanted_teams - has_teams, has_teams - wanted_teams
    if add_roles or drop_roles:
        by_name = {g.name: g for g in Group.objects.filter(name__in=add_roles | drop_roles)}
        user.groups.add(*(by_name[name] for name in add_roles if name in by_name))
        user.groups.remove(*(by_name[name] for name in drop_roles if name in by_name))
        _follow_staff_status(user)
    slugs: dict[int, str] = {}
    if join or leave:
        user.appkeeper_teams.add(*join)
        user.appkeeper_teams.remove(*leave)
        changed = Team.objects.filter(pk__in=join | leave)
        # A membership change is a change to the team for SCIM's lastModified and ETag.
        changed.update(updated_at=timezone.now())
        slugs = dict(changed.values_list("pk", "slug"))
    changes = RoleChanges(
        added_roles=sorted(add_roles),
        removed_roles=sorted(drop_roles),
        joined_teams=sorted(slugs[pk] for pk in join),
        left_teams=sorted(slugs[pk] for pk in leave),
    )
    if changes:
        AuditEvent.record(
            app=None,
            actor=None,
            action=ROLES_SYNCED,
            data={"user": user.get_username(), "via": via, **changes.__dict__},
        )
    # Predicates cache roles on the user object; this one now has new ones.
    for cached in ("_appkeeper_groups", "_appkeeper_team_ids"):
        user.__dict__.pop(cached, None)
    return changes


def _follow_staff_status(user: SignedInUser) -> None:
    """The admin lets only staff in: a role from the directory brings staff status, as
    ``grant_role`` does, and losing the last role (mapped or granted by hand) takes it
    away, never a superuser's."""
    staff = user.is_superuser or user.groups.filter(name__in=ROLE_GROUPS).exists()
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
