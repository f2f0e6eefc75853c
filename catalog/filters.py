"""One FilterSet per list, shared by the HTML pages and the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import QueryDict
from rest_framework.filters import OrderingFilter

from catalog import selectors
from catalog.choices import AppKind, AppState, Criticality, Environment, ReviewDecision, Risk
from catalog.models import MicroApp, Region, Review, Team


def _is_blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def drop_empty_values(data: Mapping[str, Any]) -> QueryDict:
    """``data`` without blank values: a form's "any" option submits ``key=``, and a
    choice filter would reject the empty string as an unknown value."""
    cleaned = QueryDict(mutable=True)
    for key in data:
        values = data.getlist(key) if isinstance(data, QueryDict) else data[key]
        if not isinstance(values, list | tuple):
            values = [values]
        kept = [value for value in values if not _is_blank(value)]
        if kept:
            cleaned.setlist(key, kept)
    return cleaned


class EmptyMeansAnyFilterSet(django_filters.FilterSet):
    """A FilterSet where an empty value means "no filter", never an invalid choice.

    Bound stays bound: a view may still tell "no query string" from "nothing chosen"."""

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = drop_empty_values(data)
        super().__init__(data, *args, **kwargs)


class MicroAppFilterSet(EmptyMeansAnyFilterSet):
    # django-filter's multiple-choice filters add DISTINCT by default, for lookups across
    # to-many joins. None of these joins a to-many relation (``region`` is an EXISTS), so
    # ``distinct=False`` keeps DISTINCT out of the page and COUNT queries.
    q = django_filters.CharFilter(method="search", label="Search")
    team = django_filters.ModelMultipleChoiceFilter(
        field_name="team__slug",
        to_field_name="slug",
        queryset=Team.objects.all(),
        label="Team",
        distinct=False,
    )
    team_id = django_filters.ModelMultipleChoiceFilter(
        field_name="team", queryset=Team.objects.all(), label="Team (id)", distinct=False
    )
    state = django_filters.MultipleChoiceFilter(choices=AppState.choices, distinct=False)
    risk = django_filters.ChoiceFilter(choices=Risk.choices, method="filter_risk")
    region = django_filters.ModelMultipleChoiceFilter(
        field_name="regions__code",
        to_field_name="code",
        queryset=Region.objects.all(),
        label="Region",
        method="filter_region",
    )
    kind = django_filters.MultipleChoiceFilter(choices=AppKind.choices, distinct=False)
    environment = django_filters.MultipleChoiceFilter(choices=Environment.choices, distinct=False)
    criticality = django_filters.MultipleChoiceFilter(choices=Criticality.choices, distinct=False)
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner (username)")
    team_owned = django_filters.BooleanFilter(
        field_name="owner",
        lookup_expr="isnull",
        label="Team-owned: no personal owner, the team answers for the app",
    )
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    expires_before = django_filters.IsoDateTimeFilter(field_name="expires_at", lookup_expr="lt")
    pinned_behind = django_filters.BooleanFilter(
        method="filter_pinned_behind",
        label="Pinned to a contract version older than a dependency's current one",
    )
    orphaned = django_filters.BooleanFilter(
        method="filter_orphaned",
        label="Orphaned: the owner left and nobody could take the app over",
    )
    deprecated = django_filters.BooleanFilter(
        field_name="deprecated", label="Deprecated by its maintainers"
    )
    namespace = django_filters.CharFilter(
        method="filter_namespace", label="Backstage namespace of the entity it was imported from"
    )
    missing_from_backstage = django_filters.BooleanFilter(
        method="filter_missing_from_backstage",
        label="No longer listed by the Backstage source it was synced from",
    )
    include_retired = django_filters.BooleanFilter(
        method="filter_include_retired",
        label="Include retired apps (hidden unless a state filter asks for them)",
    )

    class Meta:
        model = MicroApp
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(slug__icontains=value)
            | Q(description__icontains=value)
            | Q(runtime__icontains=value)
        )

    def filter_region(self, queryset, name, value):
        if not value:  # an empty ModelMultipleChoiceField value is `Region.objects.none()`
            return queryset
        # Deployed in any of the regions. EXISTS instead of a join: no duplicate rows, so no
        # DISTINCT over the whole row in the page and COUNT queries.
        in_regions = MicroApp.regions.through.objects.filter(
            microapp_id=OuterRef("pk"), region_id__in=[region.pk for region in value]
        )
        return queryset.filter(Exists(in_regions))

    def filter_risk(self, queryset, name, value):
        return queryset.high_risk() if value == Risk.HIGH else queryset.low_risk()

    def filter_tag(self, queryset, name, value):
        # JSON containment is not portable to SQLite; tags are short, so match the token.
        return queryset.filter(tags__icontains=f'"{value}"')

    def filter_pinned_behind(self, queryset, name, value):
        if value is None:
            return queryset
        behind = selectors.apps_pinned_behind()
        return queryset.filter(pk__in=behind) if value else queryset.exclude(pk__in=behind)

    def filter_orphaned(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(orphaned_at__isnull=not value)

    def filter_namespace(self, queryset, name, value):
        # Namespaces are stored lower-case, as Backstage compares them.
        return queryset.filter(backstage_entity__namespace=value.strip().lower())

    def filter_missing_from_backstage(self, queryset, name, value):
        if value is None:
            return queryset
        missing = Q(backstage_entity__missing_since__isnull=False)
        return queryset.filter(missing) if value else queryset.exclude(missing)

    def filter_include_retired(self, queryset, name, value):
        return queryset

    @property
    def qs(self):
        queryset = super().qs
        data = self.form.cleaned_data if hasattr(self.form, "cleaned_data") else {}
        # Retired apps leave the default view but stay one filter away.
        if not data.get("state") and not data.get("include_retired"):
            queryset = queryset.live()
        return queryset


def visible_apps(request) -> QuerySet[MicroApp]:
    """The apps a filter may name: those the caller may see. An invisible draft's slug or id
    must be refused exactly like one that does not exist, or the answer reveals the draft."""
    if request is None:
        return MicroApp.objects.none()
    return MicroApp.objects.visible_to(request.user)


class ReviewFilterSet(EmptyMeansAnyFilterSet):
    app = django_filters.ModelMultipleChoiceFilter(
        field_name="app__slug", to_field_name="slug", queryset=visible_apps, label="App"
    )
    app_id = django_filters.ModelMultipleChoiceFilter(
        field_name="app", queryset=visible_apps, label="App (id)"
    )
    decision = django_filters.MultipleChoiceFilter(choices=ReviewDecision.choices)
    open = django_filters.BooleanFilter(method="filter_open", label="Not decided yet")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Open and past due")

    class Meta:
        model = Review
        fields: list[str] = []

    def filter_open(self, queryset, name, value):
        return queryset.open() if value else queryset.exclude(decision="")

    def filter_overdue(self, queryset, name, value):
        overdue = queryset.overdue()
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


class NullsLastOrderingFilter(OrderingFilter):
    """``?ordering=`` where empty values sort last both ways, on SQLite and PostgreSQL alike
    (PostgreSQL would put NULL first in descending order: never-expiring apps on top)."""

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        expressions = [
            F(term[1:]).desc(nulls_last=True)
            if term.startswith("-")
            else F(term).asc(nulls_last=True)
            for term in ordering
        ]
        return queryset.order_by(*expressions)
