"""Team roll-ups of a quarter's scorecards: average and grade distribution (one query)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q, QuerySet

from scorecards.choices import Grade


def grade_counts(cards: QuerySet) -> dict[str, int]:
    counts = dict(cards.order_by().values_list("grade").annotate(n=Count("pk")))
    return {g: counts.get(g, 0) for g in Grade.values}


def team_rollups(cards: QuerySet) -> list[dict]:
    """Per team: number of apps, average overall score and grades; best average first."""
    rows = (
        cards.order_by()
        .values("team__slug", "team__name")
        .annotate(
            apps=Count("pk"),
            average=Avg("overall"),
            **{f"grade_{g}": Count("pk", filter=Q(grade=g)) for g in Grade.values},
        )
    )
    out = [
        {
            "team": r["team__slug"],
            "team_name": r["team__name"],
            "apps": r["apps"],
            "average": Decimal(str(r["average"] or 0)).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            ),
            "grades": {g: r[f"grade_{g}"] for g in Grade.values},
        }
        for r in rows
    ]
    out.sort(key=lambda t: (-t["average"], t["team_name"]))
    return out
