"""FilterSets of the lifecycle lists, shared by the API and the pages."""

from __future__ import annotations

import django_filters

from catalog.filters import EmptyMeansAnyFilterSet, visible_apps
from catalog.models import Team
from lifecycle.choices import SunsetReason, SunsetStatus
from lifecycle.models import SunsetCase


class SunsetCaseFilterSet(EmptyMeansAnyFilterSet):
    status = django_filters.ChoiceFilter(choices=SunsetStatus.choices, method="filter_status")
    open = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull", label="Open")
    reason = django_filters.MultipleChoiceFilter(choices=SunsetReason.choices)
    app = django_filters.ModelMultipleChoiceFilter(
        field_name="app__slug", to_field_name="slug", queryset=visible_apps, label="App"
    )
    app_id = django_filters.ModelMultipleChoiceFilter(
        field_name="app", queryset=visible_apps, label="App (id)"
    )
    team = django_filters.ModelMultipleChoiceFilter(
        field_name="app__team__slug",
        to_field_name="slug",
        queryset=Team.objects.all(),
        label="Team",
    )
    team_id = django_filters.ModelMultipleChoiceFilter(
        field_name="app__team", queryset=Team.objects.all(), label="Team (id)"
    )

    class Meta:
        model = SunsetCase
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value)
