"""The scorecard rubric as data: dimensions, weights, criteria, bands and grade thresholds.

The same structure drives the computation, the rubric page and ``/api/v1/scorecards/rubric/``,
so what owners read is exactly what scores them. Weights can be tuned per installation with
the optional setting ``APPKEEPER_SCORECARD_WEIGHTS`` (e.g. ``{"cost": 10, "telemetry": 35}``);
every scorecard stores the weights it was computed with, so history stays explainable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from scorecards.choices import Dimension, Grade

# Notification kinds (catalog.models.Notification.kind) that ask an owner to act. Owner
# responsiveness is the time from one of these, sent to the app's owner, to the next audit
# event on the app by the owner, a co-owner or a member of its team. The first name of each
# pair is the agreed one; the second is accepted so a differently named kind is not
# silently ignored.
RESPONSIVENESS_NOTICE_KINDS: tuple[str, ...] = (
    "expiry_reminder",  # lifecycle: 30/14/7/1 days before expiry
    "reminder",
    "changes_requested",  # catalog: a review asked for changes
    "review_changes_requested",
    "sunset_notice",  # lifecycle: a sunset case was opened
    "sunset_opened",
)


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    points: int


@dataclass(frozen=True)
class DimensionRule:
    key: str
    label: str
    weight: int
    description: str
    criteria: tuple[Criterion, ...] = ()


@dataclass(frozen=True)
class Band:
    """Responsiveness: a median of at most ``max_hours`` earns ``score``."""

    max_hours: int
    score: int


@dataclass(frozen=True)
class Rubric:
    version: int
    dimensions: tuple[DimensionRule, ...]
    grades: tuple[tuple[str, int], ...]  # (grade, minimum overall), best first; else F
    responsiveness_bands: tuple[Band, ...]
    description_min_chars: int
    heartbeat_hours: int
    notice_kinds: tuple[str, ...]

    def dimension(self, key: str) -> DimensionRule:
        return next(d for d in self.dimensions if d.key == key)

    @property
    def weights(self) -> dict[str, int]:
        return {d.key: d.weight for d in self.dimensions}

    def grade_for(self, overall: Decimal) -> str:
        for grade, minimum in self.grades:
            if overall >= minimum:
                return grade
        return Grade.F

    def overall(self, scores: dict[str, int]) -> Decimal:
        """The weighted mean of the dimension scores, to one decimal (half up)."""
        total_weight = sum(self.weights.values())
        weighted = sum(Decimal(scores[key]) * weight for key, weight in self.weights.items())
        return (weighted / total_weight).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def responsiveness_score(self, median_hours: float) -> int:
        for band in self.responsiveness_bands:
            if median_hours <= band.max_hours:
                return band.score
        return 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["grades"] = [{"grade": g, "min_score": m} for g, m in self.grades] + [
            {"grade": Grade.F.value, "min_score": 0}
        ]
        data["notice_kinds"] = list(self.notice_kinds)
        return data


DEFAULT_RUBRIC = Rubric(
    # 2: documentation loses points for each retired app the app still calls.
    # 3: an app orphaned at the period's end (owner gone, nobody took it over) scores 0 for
    # responsiveness, and a co-owner's action answers a notice as the owner's does. Neither
    # orphaned apps nor co-owners existed before it, so earlier quarters recompute to the
    # same scores.
    version=3,
    dimensions=(
        DimensionRule(
            key=Dimension.DOCUMENTATION,
            label=Dimension.DOCUMENTATION.label,
            weight=30,
            description=(
                "Can someone else use and operate the app? Points per item present, less "
                "for each retired app it still calls (dependency health), never below 0."
            ),
            criteria=(
                Criterion("valid_contract", "The latest API contract is valid", 40),
                Criterion("description", "A description of at least 50 characters", 20),
                Criterion("docs_url", "A documentation URL", 20),
                Criterion("runbook_url", "A runbook URL", 20),
                Criterion(
                    "live_dependencies", "Dependency health: each retired app it still calls", -20
                ),
            ),
        ),
        DimensionRule(
            key=Dimension.TELEMETRY,
            label=Dimension.TELEMETRY.label,
            weight=25,
            description="Does the app tell us it is alive and what it costs?",
            criteria=(
                Criterion(
                    "coverage", "Share of the quarter's days with usage reports (pro rata)", 80
                ),
                Criterion(
                    "heartbeat",
                    "A heartbeat within 24 hours of the quarter's end (to date: of now)",
                    20,
                ),
            ),
        ),
        DimensionRule(
            key=Dimension.COST,
            label=Dimension.COST.label,
            weight=20,
            description=(
                "Cost per 1,000 requests as a percentile of the fleet: the share of apps with "
                "usage that cost more per request (ties count half). No usage scores 0."
            ),
        ),
        DimensionRule(
            key=Dimension.RESPONSIVENESS,
            label=Dimension.RESPONSIVENESS.label,
            weight=25,
            description=(
                "Median hours from an expiry reminder, a review asking for changes or a sunset "
                "notice sent in the quarter to the next action on the app by its owner, a "
                "co-owner or its team "
                "within the quarter (unanswered notices count until the quarter's end, or now "
                "while it runs). No such notices scores 100. An app orphaned at the quarter's "
                "end (its owner left and nobody took it over) scores 0: nobody answers it."
            ),
        ),
    ),
    grades=((Grade.A, 90), (Grade.B, 75), (Grade.C, 60), (Grade.D, 40)),
    responsiveness_bands=(Band(24, 100), Band(72, 75), Band(168, 50), Band(336, 25)),
    description_min_chars=50,
    heartbeat_hours=24,
    notice_kinds=RESPONSIVENESS_NOTICE_KINDS,
)


def get_rubric() -> Rubric:
    """The rubric in force: the default with any configured weights applied."""
    rubric = replace(
        DEFAULT_RUBRIC,
        heartbeat_hours=getattr(settings, "APPKEEPER_HEARTBEAT_HOURS", 24),
    )
    overrides = getattr(settings, "APPKEEPER_SCORECARD_WEIGHTS", None) or {}
    unknown = set(overrides) - set(Dimension.values)
    if unknown or any(not isinstance(w, int) or w < 0 for w in overrides.values()):
        raise ImproperlyConfigured(
            "APPKEEPER_SCORECARD_WEIGHTS maps dimensions "
            f"({', '.join(Dimension.values)}) to non-negative integers."
        )
    hours = rubric.heartbeat_hours
    dimensions = tuple(
        replace(
            d,
            weight=overrides.get(d.key, d.weight),
            criteria=tuple(
                replace(
                    c,
                    label=(
                        f"A heartbeat within {hours} hours of the quarter's end (to date: of now)"
                    ),
                )
                if c.key == "heartbeat"
                else c
                for c in d.criteria
            ),
        )
        for d in rubric.dimensions
    )
    if not sum(d.weight for d in dimensions):
        raise ImproperlyConfigured("APPKEEPER_SCORECARD_WEIGHTS must not all be zero.")
    return replace(rubric, dimensions=dimensions)
