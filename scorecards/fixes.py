"""What an app's owners should fix first, read from a scorecard's scores and reasons.

A reason is a fix only where the app loses points for it. Cost is scored against the rest
of the fleet, so an app cheaper than most has nothing to fix there even though it is not
the cheapest: its percentile is a strength, not a task. Fixes are ordered by the overall
points their dimension loses (weight × missing score), so the first one listed is the one
that raises the grade most.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from scorecards.choices import Dimension

# Short names, for column headings and the tag on each fix: the full ones squeeze the list.
SHORT_LABELS = {
    Dimension.DOCUMENTATION: "Docs",
    Dimension.TELEMETRY: "Telemetry",
    Dimension.COST: "Cost",
    Dimension.RESPONSIVENESS: "Response",
}
# Below this cost score an app costs more per request than most of the fleet: worth a look.
COST_FIX_BELOW = 50
SHOWN_FIXES = 2


@dataclass(frozen=True)
class Fix:
    dimension: str
    label: str
    short: str
    text: str
    points_lost: Decimal


def fixes_for(
    scores: Mapping[str, int],
    reasons: Mapping[str, Sequence[str]],
    weights: Mapping[str, int | float],
) -> list[Fix]:
    """The actionable reasons, the costliest first (stable within a dimension)."""
    total = Decimal(sum(weights.get(key, 0) for key in Dimension.values)) or Decimal(1)
    out: list[Fix] = []
    for key, label in Dimension.choices:
        score = scores.get(key)
        if score is None or score >= 100:
            continue
        if key == Dimension.COST and score >= COST_FIX_BELOW:
            continue
        lost = Decimal(str(weights.get(key, 0))) * (100 - score) / total
        short = SHORT_LABELS[key]
        out.extend(Fix(key, label, short, text, lost) for text in reasons.get(key) or [])
    return sorted(out, key=lambda fix: -fix.points_lost)
