"""The dashboard: what needs the signed-in person's attention, and the fleet at a glance.

The fleet charts are drawn server-side as inline SVG, each paired with a table.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog import permissions
from catalog.choices import AppState
from catalog.models import MicroApp, Review, Team
from catalog.templatetags.appkeeper import STATE_COLOURS
from core import charts
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
    colours = {state.label: STATE_COLOURS[state] for state in AppState}
    # At least 2 units wide, so a state with one app among thousands is still drawn.
    state_bars = charts.scaled_bars(
        [(state.label, by_state[state]) for state in states],
        length=bar_w,
        row_height=row_h,
        min_length=2,
        digits=None,
        colours=colours,
    )
    team_bars = charts.stacked_bars(
        [
            (team, [(state.label, counts[state]) for state in AppState])
            for team, counts in sorted(by_team.items())
        ],
        length=bar_w,
        row_height=row_h,
        colours=colours,
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
    # Expiring within the renewal window, which opens with the first reminder: the number
    # the card's title states (``policy.renewal_window_days``).
    expiring = list(
        visible.expiring_within(max(settings.APPKEEPER_REMINDER_DAYS, default=0))
        .select_related("team", "owner")
        .order_by("expires_at")[:10]
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
