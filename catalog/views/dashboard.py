"""The dashboard: what needs the signed-in person's attention, and the fleet at a glance.

The fleet charts are drawn server-side as inline SVG, each paired with a table.
"""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog import permissions
from catalog.choices import AppState
from catalog.models import MicroApp, Review, Team
from catalog.templatetags.appkeeper import STATE_COLOURS
from core.panels import DASHBOARD_PANELS, render_panels

# --- dashboard ---------------------------------------------------------------------------


def _fleet_chart(rows: list[dict], teams: list[str]) -> dict:
    """Geometry of the two bar charts (by state, by team stacked by state), in SVG units.

    Rendered server-side as inline SVG: no JavaScript, readable by screen readers through
    the table the template renders next to it.
    """
    by_state = Counter()
    by_team: dict[str, Counter] = {team: Counter() for team in teams}
    for row in rows:
        by_state[row["state"]] += row["n"]
        by_team.setdefault(row["team__name"], Counter())[row["state"]] += row["n"]
    label_w, bar_w, row_h = 120, 380, 30
    states = [s for s in AppState if by_state[s]]
    top = max(by_state.values(), default=0) or 1
    state_bars = [
        {
            "y": i * row_h,
            "label": state.label,
            "state": state.value,
            "n": by_state[state],
            "w": max(2, round(bar_w * by_state[state] / top)),
            "colour": STATE_COLOURS[state],
        }
        for i, state in enumerate(states)
    ]
    team_top = max((sum(c.values()) for c in by_team.values()), default=0) or 1
    team_bars = []
    for i, (team, counts) in enumerate(sorted(by_team.items())):
        x = 0
        segments = []
        for state in AppState:
            if not counts[state]:
                continue
            w = bar_w * counts[state] / team_top
            segments.append(
                {
                    "x": round(x, 1),
                    "w": round(w, 1),
                    "n": counts[state],
                    "label": state.label,
                    "colour": STATE_COLOURS[state],
                }  # fmt: skip
            )
            x += w
        team_bars.append(
            {
                "y": i * row_h,
                "label": team,
                "n": sum(counts.values()),
                "segments": segments,
                "end": round(x, 1),
            }  # fmt: skip
        )
    return {
        "label_w": label_w,
        "bar_w": bar_w,
        "width": label_w + bar_w + 50,
        "state_bars": state_bars,
        "state_h": max(1, len(state_bars)) * row_h,
        "team_bars": team_bars,
        "team_h": max(1, len(team_bars)) * row_h,
        "legend": [{"label": s.label, "colour": STATE_COLOURS[s]} for s in states],
        "total": sum(by_state.values()),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """What needs the signed-in person's attention, and the fleet at a glance."""
    user = request.user
    visible = MicroApp.objects.visible_to(user)
    my_apps = list(
        MicroApp.objects.owned_by(user)
        .live()
        .select_related("team")
        .order_by(F("expires_at").asc(nulls_last=True), "name")[:8]
    )
    rows = list(visible.values("team__name", "state").annotate(n=Count("pk")))
    counts = Counter()
    for row in rows:
        counts[row["state"]] += row["n"]
    state_cards = [
        {"state": s.value, "label": s.label, "n": counts[s], "url": f"?state={s.value}"}
        for s in AppState
        if s != AppState.RETIRED
    ]
    expiring = list(
        visible.expiring_within(30).select_related("team", "owner").order_by("expires_at")[:10]
    )
    reviews = None
    if permissions.can_decide_review(user):
        reviews = list(
            Review.objects.filter(decision="")
            .select_related("app", "app__team", "requested_by")
            .order_by("due_at")[:10]
        )
    teams = list(Team.objects.values_list("name", flat=True))
    return render(
        request,
        "catalog/dashboard.html",
        {
            "my_apps": my_apps,
            "state_cards": state_cards,
            "live_total": sum(n for s, n in counts.items() if s != AppState.RETIRED),
            "expiring": expiring,
            "reviews": reviews,
            "chart": _fleet_chart(rows, teams),
            "panels": render_panels(DASHBOARD_PANELS, request),
        },
    )
