"""FilterSets shared by the scorecards page and the API."""

from __future__ import annotations

import django_filters
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field

from catalog.filters import EmptyMeansAnyFilterSet
from scorecards.choices import Grade
from scorecards.models import Scorecard
from scorecards.periods import QUARTER_RE

QUARTER_PATTERN = QUARTER_RE.pattern
quarter_validator = RegexValidator(QUARTER_RE, "Use a quarter like 2026-Q4 (Q1 to Q4).")


@extend_schema_field({"type": "string", "pattern": QUARTER_PATTERN})
class QuarterFilter(django_filters.CharFilter):
    """A quarter like 2026-Q4 (documented with its pattern)."""


class SlugInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """Comma-separated slugs; an unknown slug simply matches nothing."""


def latest_scored_quarter() -> str | None:
    return Scorecard.objects.order_by("-quarter").values_list("quarter", flat=True).first()


class ScorecardFilterSet(EmptyMeansAnyFilterSet):
    quarter = QuarterFilter(
        field_name="quarter",
        validators=[quarter_validator],
        label="Quarter (e.g. 2026-Q4; default: the latest scored quarter)",
    )
    team = SlugInFilter(field_name="team__slug", label="Team slugs, comma-separated")
    grade = django_filters.MultipleChoiceFilter(choices=Grade.choices)
    app = django_filters.CharFilter(field_name="app__slug", label="App (slug)")

    class Meta:
        model = Scorecard
        fields: list[str] = []

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("quarter"):
            # Without a quarter, the latest scored one: a list mixing quarters would count
            # each app several times in every total people derive from it.
            queryset = queryset.filter(quarter=latest_scored_quarter() or "")
        return queryset
