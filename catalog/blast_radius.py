"""What the blast radius page says about an app's dependents: the summary, the groups by
distance, and the picture.

Everything here reads the list ``catalog.impact.dependents`` returned; the picture costs
one more query (the calls among the apps it draws), whatever the size of the radius.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from catalog.choices import Criticality
from catalog.impact import Dependent
from catalog.models import Dependency, MicroApp
from core import charts

# Beyond this many boxes the picture stops being read; the nearest are drawn and the page
# says how many more the table lists.
DRAWN_LIMIT = 60
BOX_WIDTH, BOX_HEIGHT = 170, 24
COLUMN_WIDTH, ROW_HEIGHT = 210, 34

# From the least to the most that can be lost.
CRITICALITY_RANK = {c.value: rank for rank, c in enumerate(Criticality)}


@dataclass
class Summary:
    count: int
    direct: int
    teams: list[str]  # names, the teams with the most dependents first
    worst_criticality: str | None  # the label, e.g. "Critical"; None without dependents
    worst_count: int  # how many dependents have that criticality
    deepest: int


@dataclass
class DepthGroup:
    depth: int
    dependents: list[Dependent] = field(default_factory=list)


def summarise(found: list[Dependent]) -> Summary:
    """The numbers at the top of the page: how many apps, how many call directly, whose
    they are and the most critical among them."""
    teams: dict[int, tuple[str, int]] = {}
    for dependent in found:
        team = dependent.app.team
        name, count = teams.get(team.pk, (team.name, 0))
        teams[team.pk] = (name, count + 1)
    worst = max(
        (d.app.criticality for d in found), key=lambda c: CRITICALITY_RANK.get(c, -1), default=None
    )
    return Summary(
        count=len(found),
        direct=sum(1 for d in found if d.depth == 1),
        teams=[name for name, _ in sorted(teams.values(), key=lambda t: (-t[1], t[0]))],
        worst_criticality=Criticality(worst).label if worst else None,
        worst_count=sum(1 for d in found if d.app.criticality == worst) if worst else 0,
        deepest=max((d.depth for d in found), default=0),
    )


def by_depth(found: list[Dependent]) -> list[DepthGroup]:
    """The dependents grouped by distance, nearest first (``found`` is already in order)."""
    return [
        DepthGroup(depth=depth, dependents=list(group))
        for depth, group in groupby(found, key=lambda d: d.depth)
    ]


def picture(app: MicroApp, found: list[Dependent], *, limit: int = DRAWN_LIMIT) -> dict[str, Any]:
    """The app on the left, its dependents in one column per distance, an arrow for each
    call among the drawn apps; only the ``limit`` nearest dependents are drawn."""
    drawn = found[:limit]
    nodes = {
        app.pk: charts.GraphNode(pk=app.pk, slug=app.slug, state=app.state, name=app.name),
        **{
            d.app.pk: charts.GraphNode(
                pk=d.app.pk, slug=d.app.slug, state=d.app.state, layer=d.depth, name=d.app.name
            )
            for d in drawn
        },
    }
    calls = list(
        Dependency.objects.filter(from_microapp_id__in=[d.app.pk for d in drawn])
        .filter(to_microapp_id__in=list(nodes))
        .values_list("from_microapp_id", "to_microapp_id")
        .order_by("from_microapp_id", "to_microapp_id")
    )
    # A dependent is ordered by the apps it reaches the provider through, never by a call
    # to one drawn further right (not placed yet when its own column is).
    towards_provider = [(a, b) for a, b in calls if nodes[b].layer < nodes[a].layer]
    width, height = charts.place_layers(nodes, towards_provider, col=COLUMN_WIDTH, row=ROW_HEIGHT)
    edges = [
        {
            "d": charts.edge_path(nodes[a], nodes[b], box_w=BOX_WIDTH, box_h=BOX_HEIGHT),
            "direct": b == app.pk,
        }
        for a, b in calls
    ]
    return {
        "root": nodes[app.pk],
        "nodes": sorted(
            (n for n in nodes.values() if n.pk != app.pk), key=lambda n: (n.layer, n.y)
        ),
        "edges": edges,
        "width": math.ceil(width - COLUMN_WIDTH + BOX_WIDTH + 10),
        "height": math.ceil(height),
        "box_w": BOX_WIDTH,
        "box_h": BOX_HEIGHT,
        "shown": len(drawn),
        "more": len(found) - len(drawn),
    }
