"""The whole fleet as Backstage entities, for a Backstage URL location to read.

Groups for teams, Users for the people who own, co-own or belong to them (or were read
from Backstage), a Component (and
its API) for every app that is neither a draft nor retired, and every other entity
Appkeeper keeps (System, Domain, Resource, API, and entities it read but did not map), so a
catalog imported from Backstage goes back whole. Entities imported from Backstage are
written back from their stored documents; the others are generated to pass Backstage's
validation.

Two kinds are left out on purpose. Retired apps: Backstage marks an entity that leaves its
location as an orphan, which is what retirement means to it, and a Component kept as
``deprecated`` would read as still running. Location entities: the fleet already holds what
they point at, and Backstage following them too would read every entity twice and refuse
the second copy as a conflict.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q

from catalog.backstage import names
from catalog.backstage.export import (
    ANNOTATION,
    API_VERSION,
    ExportContext,
    app_entities,
    export_queryset,
    linked_entity,
    stored_document,
    team_ref,
)
from catalog.choices import AppState
from catalog.models import BackstageEntity, MicroApp, Team

# Kinds written by the sections above (from their teams, people and apps), or never.
NOT_WRITTEN_AS_STORED = ("location",)


def _group(team: Team) -> dict:
    entity = linked_entity(team)
    if entity is not None:
        return stored_document(entity)
    metadata: dict = {"name": names.entity_name(team.slug)}
    if team.description:
        metadata["description"] = team.description
    metadata["annotations"] = {f"{ANNOTATION}slug": team.slug}
    profile = {"displayName": team.name}
    if team.contact_email:
        profile["email"] = team.contact_email
    spec: dict = {"type": "team", "profile": profile}
    if team.parent is not None:
        spec["parent"] = names.ref_text(team_ref(team.parent), default_kind="group")
    spec["children"] = []
    return {"apiVersion": API_VERSION, "kind": "Group", "metadata": metadata, "spec": spec}


def _user(person) -> dict:
    entity = linked_entity(person)
    if entity is not None:
        return stored_document(entity)
    username = person.get_username()
    profile = {"displayName": person.get_full_name() or username}
    if person.email:
        profile["email"] = person.email
    return {
        "apiVersion": API_VERSION,
        "kind": "User",
        "metadata": {
            "name": names.entity_name(username),
            "annotations": {f"{ANNOTATION}username": username},
        },
        "spec": {
            "profile": profile,
            "memberOf": [
                names.ref_text(team_ref(team), default_kind="group")
                for team in person.appkeeper_teams.all()
            ],
        },
    }


def fleet_entities(user) -> list[dict]:
    """Every entity of the fleet ``user`` may see, in a fixed number of queries."""
    # Drafts the reader may see are listed: an app imported from Backstage is a draft until
    # it goes through review, and Backstage still knows it. Retired apps are gone.
    listed = MicroApp.objects.visible_to(user).exclude(state=AppState.RETIRED)
    apps = list(export_queryset(listed).order_by("slug"))
    ctx = ExportContext.load(apps)
    teams_with_ref = Team.objects.select_related("backstage_entity")
    teams = Team.objects.select_related(
        "backstage_entity", "parent", "parent__backstage_entity"
    ).order_by("slug")
    co_owners = MicroApp.co_owners.through.objects.filter(microapp__in=listed).values("user_id")
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(appkeeper_teams__isnull=False)
            | Q(backstage_entity__isnull=False)
            | Q(pk__in=listed.values("owner_id"))
            | Q(pk__in=co_owners)
        )
        .distinct()
        .select_related("backstage_entity")
        .prefetch_related(Prefetch("appkeeper_teams", queryset=teams_with_ref.order_by("slug")))
        .order_by("username")
    )
    others = (
        BackstageEntity.objects.filter(app__isnull=True, team__isnull=True, user__isnull=True)
        .exclude(kind__in=NOT_WRITTEN_AS_STORED)
        .order_by("kind", "ref")
    )
    out = [_group(team) for team in teams]
    out += [_user(person) for person in people]
    for app in apps:
        out += app_entities(app, ctx)
    out += [stored_document(entity) for entity in others]
    return out
