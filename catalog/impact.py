"""Who is hurt when an app changes or goes away: its dependents, direct and transitive.

The walk is one recursive query (``WITH RECURSIVE``; on PostgreSQL a level-by-level form
that expands each app once), bounded by ``APPKEEPER_IMPACT_MAX_DEPTH`` so that a cycle in
the graph ends. It returns each dependent once, at the shortest distance, with the app it
reaches the provider through. The rest of the catalog (contract checks, sunset cases, retirements,
the blast radius page and API) reads dependents from here, never walks the graph itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from catalog.choices import AppState
from catalog.models import Dependency, MicroApp
from catalog.models.dependencies import MAX_USE_LENGTH, MAX_USES
from contracts.openapi_diff.model import HTTP_METHODS, path_key

# Apps whose breakage matters: every app that went or is going live and is not retired.
# Drafts are left out: they call nothing yet, and other teams may not even see them.
IMPACT_STATES = (AppState.IN_REVIEW, AppState.ACTIVE, AppState.EXPIRED, AppState.SUNSETTING)

# GraphQL root types: a change to one of their fields touches only who lists that field.
GRAPHQL_ROOTS = ("Query", "Mutation", "Subscription")

_OPERATION_USE = re.compile(r"^(?P<method>[A-Za-z]+)\s+(?P<path>/\S*)$")
_GRAPHQL_USE = re.compile(r"^[_A-Za-z]\w*\.[_A-Za-z]\w*$")

_WALK_SQL = """
WITH RECURSIVE reach(id, depth, via) AS (
    SELECT d.from_microapp_id, 1, d.to_microapp_id
      FROM catalog_microapp_depends_on d
      JOIN catalog_microapp a ON a.id = d.from_microapp_id
     WHERE d.to_microapp_id = %s AND a.state IN ({states})
    UNION
    SELECT d.from_microapp_id, r.depth + 1, r.id
      FROM reach r
      JOIN catalog_microapp_depends_on d ON d.to_microapp_id = r.id
      JOIN catalog_microapp a ON a.id = d.from_microapp_id
     WHERE r.depth < %s AND a.state IN ({states})
)
SELECT id, depth, via
  FROM (
    SELECT id, depth, via, ROW_NUMBER() OVER (PARTITION BY id ORDER BY depth, via) AS nearest
      FROM reach
     WHERE id <> %s
  ) ranked
 WHERE nearest = 1
"""

# PostgreSQL walks one level per step, carrying the apps already reached in an array, so
# each app is expanded once, at its shortest distance. The walk above expands every path
# up to the depth limit: on a graph whose apps also call apps of their own level, several
# times the work (benchmarks/impact.py measures both). Same answer, row for row.
_LEVELS_SQL = """
WITH RECURSIVE level(depth, ids, vias, seen) AS (
    SELECT 0, ARRAY[%s]::bigint[], ARRAY[]::bigint[], ARRAY[%s]::bigint[]
    UNION ALL
    SELECT l.depth + 1, n.ids, n.vias, l.seen || n.ids
      FROM level l
     CROSS JOIN LATERAL (
        SELECT array_agg(f.id ORDER BY f.id) AS ids, array_agg(f.via ORDER BY f.id) AS vias
          FROM (
            SELECT d.from_microapp_id AS id, MIN(d.to_microapp_id) AS via
              FROM catalog_microapp_depends_on d
              JOIN catalog_microapp a ON a.id = d.from_microapp_id
             WHERE d.to_microapp_id = ANY(l.ids)
               AND d.from_microapp_id <> ALL(l.seen)
               AND a.state IN ({states})
             GROUP BY d.from_microapp_id
          ) f
     ) n
     WHERE l.depth < %s AND n.ids IS NOT NULL
)
SELECT unnest(ids), depth, unnest(vias) FROM level WHERE depth > 0
"""


@dataclass
class Dependent:
    """One app that breaks if the provider does: ``depth`` 1 calls it directly."""

    app: MicroApp
    depth: int
    via: MicroApp | None  # the app it calls on the way to the provider (None at depth 1)
    uses: list[str] = field(default_factory=list)  # declared at depth 1 only
    version_range: str = ""

    def as_dict(self) -> dict[str, Any]:
        app = self.app
        return {
            "slug": app.slug,
            "name": app.name,
            "state": app.state,
            "criticality": app.criticality,
            "team": {"slug": app.team.slug, "name": app.team.name},
            "owner": app.owner.get_username() if app.owner_id else None,
            "depth": self.depth,
            "via": self.via.slug if self.via else None,
            "uses": self.uses,
            "version_range": self.version_range,
        }


def max_depth() -> int:
    return settings.APPKEEPER_IMPACT_MAX_DEPTH


def dependent_rows(app_id: int, depth: int | None = None) -> list[tuple[int, int, int]]:
    """``(dependent id, distance, id of the app it calls on the way)`` for every live app
    that reaches ``app_id`` in at most ``depth`` hops; one query."""
    depth = max_depth() if depth is None else depth
    states = ", ".join(["%s"] * len(IMPACT_STATES))
    live: list[int | str] = [str(state) for state in IMPACT_STATES]
    if connection.vendor == "postgresql":
        sql = _LEVELS_SQL.format(states=states)
        params = [app_id, app_id, *live, depth]
    else:
        sql = _WALK_SQL.format(states=states)
        params = [app_id, *live, depth, *live, app_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(a), int(d), int(v)) for a, d, v in cursor.fetchall()]


def dependents(app: MicroApp, *, depth: int | None = None) -> list[Dependent]:
    """The blast radius of ``app``: nearest first, then by name; three queries whatever
    its size (the walk, the apps with their team and owner, the direct links)."""
    rows = dependent_rows(app.pk, depth)
    if not rows:
        return []
    ids = {pk for pk, _, _ in rows}
    apps = {
        a.pk: a
        for a in MicroApp.objects.filter(pk__in=ids)
        .select_related("team", "owner")
        .only(
            "slug",
            "name",
            "state",
            "criticality",
            "team__slug",
            "team__name",
            # A team-owned app's notices go to its lead or its contact address.
            "team__lead",
            "team__contact_email",
            "owner__username",
            "owner__email",
            "owner__is_active",
            "owner__first_name",
            "owner__last_name",
        )
    }
    links = {
        d.from_microapp_id: d
        for d in Dependency.objects.filter(to_microapp=app, from_microapp_id__in=ids).only(
            "from_microapp_id", "uses", "version_range"
        )
    }
    found = []
    for pk, distance, via in rows:
        link = links.get(pk) if distance == 1 else None
        found.append(
            Dependent(
                app=apps[pk],
                depth=distance,
                via=None if distance == 1 else apps.get(via),
                uses=list(link.uses) if link else [],
                version_range=link.version_range if link else "",
            )
        )
    found.sort(key=lambda d: (d.depth, d.app.name, d.app.pk))
    return found


def direct_dependents(app: MicroApp) -> list[Dependent]:
    """Only the apps that call ``app`` themselves."""
    return dependents(app, depth=1)


# --- which changes touch which dependent ---------------------------------------------------


def normalise_use(text: str) -> str:
    """The form a declared use is compared in: ``GET /tickets/{}`` or ``Query.tickets``."""
    text = text.strip()
    match = _OPERATION_USE.match(text)
    if match:
        return f"{match['method'].upper()} {path_key(match['path'])}"
    return text


def clean_uses(value: Any) -> list[str]:
    """Validate a dependent's declared uses; raises ValidationError with what is wrong."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError('List the operations as strings, e.g. ["GET /tickets"].')
    if len(value) > MAX_USES:
        raise ValidationError(f"List at most {MAX_USES} operations.")
    cleaned: list[str] = []
    for raw in value:
        text = " ".join(raw.split())
        if not text:
            continue
        if len(text) > MAX_USE_LENGTH:
            raise ValidationError(f"Keep each operation under {MAX_USE_LENGTH} characters.")
        match = _OPERATION_USE.match(text)
        if match:
            if match["method"].lower() not in HTTP_METHODS:
                raise ValidationError(f"{raw!r}: {match['method']} is not an HTTP method.")
            text = f"{match['method'].upper()} {match['path']}"
        elif not _GRAPHQL_USE.match(text):
            raise ValidationError(
                f'{raw!r}: write an operation as "METHOD /path" (e.g. "GET /tickets/{{id}}") '
                'or a GraphQL field as "Type.field" (e.g. "Query.tickets").'
            )
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def change_touches(change: dict[str, Any], uses: Iterable[str]) -> bool:
    """Whether a change can break a dependent that calls ``uses`` (all of it when empty).

    An OpenAPI change to an operation touches who lists that operation; a change to the
    whole document (servers, security) touches everyone. A GraphQL change to a root field
    touches who lists it; one to another type may reach any query, so it touches everyone.
    """
    wanted = {normalise_use(u) for u in uses}
    if not wanted:
        return True
    operation, path = change.get("operation") or "", change.get("path") or ""
    if operation:
        return f"{operation.upper()} {path_key(path)}" in wanted
    if change.get("location") == "schema":
        type_name = path.split(".", 1)[0]
        return path in wanted or type_name not in GRAPHQL_ROOTS
    return True


def changes_touching(changes: Iterable[dict[str, Any]], uses: Iterable[str]) -> list[dict]:
    """The breaking (ERR) changes among ``changes`` that touch a dependent calling ``uses``."""
    uses = list(uses)
    return [c for c in changes if c.get("level") == "ERR" and change_touches(c, uses)]
