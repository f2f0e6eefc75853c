"""Finding apps: the catalog page, the "depends on" picker, and My apps.

One view serves a page and its htmx partial (``core.htmx.wants_fragment`` decides); every
page also works as plain links and forms.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django_htmx.http import push_url

from catalog import permissions
from catalog.choices import AppState, Risk
from catalog.filters import MicroAppFilterSet
from catalog.models import BackstageEntity, MicroApp, Region, Team
from core.htmx import vary_on_htmx, wants_fragment

PAGE_SIZE = 25

# Sortable columns of the catalog: URL key -> ordering expression. ``risk_level`` comes from
# ``MicroAppQuerySet.with_risk()``.
SORTS = {
    "name": F("name"),
    "team": F("team__name"),
    "state": F("state"),
    "risk": F("risk_level"),
    "kind": F("kind"),
    "environment": F("environment"),
    "expires": F("expires_at"),
    "updated": F("updated_at"),
}
SORT_COLUMNS = (
    ("name", "App"),
    ("team", "Team"),
    ("state", "State"),
    ("risk", "Risk"),
    ("kind", "Kind"),
    ("environment", "Environment"),
    (None, "Regions"),
    ("expires", "Expires"),
)
# The filters the catalog page shows, in order; all are fields of MicroAppFilterSet.
FILTER_KEYS = (
    "q",
    "team",
    "state",
    "risk",
    "region",
    "kind",
    "environment",
    "pinned_behind",
    "orphaned",
    "deprecated",
    "namespace",
    "missing_from_backstage",
)
# ``pinned_behind`` is a BooleanFilter: its select offers the values the API accepts, so a
# filtered page's URL is the API's query string too.
PINNED_CHOICES = (
    ("true", "Yes: on an older contract version"),
    ("false", "No"),
)
DEPRECATED_CHOICES = (
    ("true", "Deprecated"),
    ("false", "Not deprecated"),
)
MISSING_CHOICES = (
    ("true", "No longer listed by Backstage"),
    ("false", "Still listed, or not from Backstage"),
)
ORPHANED_CHOICES = (
    ("true", "Orphaned: needs an owner"),
    ("false", "Has an owner"),
)


# --- catalog -----------------------------------------------------------------------------


def _clean_query(params, *, drop: tuple[str, ...] = ()) -> str:
    """The query string without empty values, so pushed URLs stay short and shareable."""
    pairs = [
        (key, value)
        for key in params
        if key not in drop
        for value in params.getlist(key)
        if value.strip()
    ]
    return urlencode(pairs)


@vary_on_htmx
@login_required
def app_list(request: HttpRequest) -> HttpResponse:
    """The catalog: search, filter (the API's FilterSet), sort and page through apps.

    An htmx request targeting ``#results`` gets only the results partial, and the response
    pushes the cleaned URL so the filtered view can be bookmarked and shared.
    """
    fragment = wants_fragment(request, target="results")
    base = (
        MicroApp.objects.visible_to(request.user)
        .with_risk()
        .select_related("team", "owner")
        .prefetch_related("regions")
    )
    filterset = MicroAppFilterSet(request.GET or None, queryset=base, request=request)
    queryset = filterset.qs
    sort = request.GET.get("sort", "name")
    key = sort.removeprefix("-")
    if key not in SORTS:
        sort, key = "name", "name"
    expression = SORTS[key]
    ordering = (
        expression.desc(nulls_last=True)
        if sort.startswith("-")
        else expression.asc(nulls_last=True)
    )
    queryset = queryset.order_by(ordering, "name", "pk")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    filter_query = _clean_query(request.GET, drop=("page", "sort"))
    list_url = reverse("app-list")

    def url(**extra) -> str:
        query = "&".join(q for q in (filter_query, urlencode(extra)) if q)
        return f"{list_url}?{query}" if query else list_url

    sort_param = {} if sort == "name" else {"sort": sort}
    columns = []
    for column, label in SORT_COLUMNS:
        if column is None:
            columns.append({"label": label, "cls": "hide-sm"})
            continue
        direction = "ascending" if sort == column else "descending" if sort == f"-{column}" else ""
        # Clicking the sorted column flips it; any other column sorts ascending first.
        target = f"-{column}" if direction == "ascending" else column
        columns.append(
            {
                "label": label,
                "key": column,
                "direction": direction,
                "cls": "hide-sm" if column in ("kind", "environment") else "",
                "url": url(**({} if target == "name" else {"sort": target})),
            }
        )
    prev_url = url(**sort_param, page=page.previous_page_number()) if page.has_previous() else ""
    next_url = url(**sort_param, page=page.next_page_number()) if page.has_next() else ""
    active_filters = [k for k in FILTER_KEYS if k != "q" and request.GET.get(k)]
    context = {
        "filterset": filterset,
        "page": page,
        "apps": page.object_list,
        "sort": sort,
        "columns": columns,
        "sort_label": "{} ({})".format(
            dict(SORT_COLUMNS)[key].lower(), "descending" if sort.startswith("-") else "ascending"
        ),
        "prev_url": prev_url,
        "next_url": next_url,
        "has_filters": bool(active_filters or request.GET.get("q", "").strip()),
        "invalid_filters": sorted(filterset.form.errors) if filterset.is_bound else [],
        "fragment": fragment,
        "teams": () if fragment else Team.objects.all(),
        "regions": () if fragment else Region.objects.all(),
        "states": AppState.choices,
        "risks": Risk.choices,
        "kinds": MicroApp._meta.get_field("kind").choices,
        "environments": MicroApp._meta.get_field("environment").choices,
        "pinned_choices": PINNED_CHOICES,
        "orphaned_choices": ORPHANED_CHOICES,
        "deprecated_choices": DEPRECATED_CHOICES,
        "missing_choices": MISSING_CHOICES,
        "namespaces": () if fragment else _namespaces(),
        "may_transfer": permissions.can_transfer_apps(request.user),
        "selected": {k: request.GET.get(k, "") for k in FILTER_KEYS},
    }
    if not fragment:
        return render(request, "catalog/app_list.html", context)
    response = render(request, "catalog/partials/app_table.html", context)
    clean = _clean_query(request.GET)
    push_url(response, reverse("app-list") + (f"?{clean}" if clean else ""))
    return response


def _namespaces() -> list[str]:
    """The Backstage namespaces apps were imported from, for the filter's choices."""
    return list(
        BackstageEntity.objects.filter(app__isnull=False)
        .order_by("namespace")
        .values_list("namespace", flat=True)
        .distinct()
    )


PICKER_LIMIT = 20


@login_required
def app_picker(request: HttpRequest) -> HttpResponse:
    """Apps matching ``q`` (name or slug) for the "depends on" picker: live apps the user
    can see, minus those already chosen (``depends_on``) and the app being edited
    (``exclude``). At most ``PICKER_LIMIT``, in name order: one query, whatever the fleet."""
    query = request.GET.get("q", "").strip()[:100]
    apps: list[MicroApp] = []
    more = False
    if query:
        chosen = [v for v in request.GET.getlist("depends_on") if v.isdigit()]
        found = (
            MicroApp.objects.visible_to(request.user)
            .live()
            .filter(Q(name__icontains=query) | Q(slug__icontains=query))
            .exclude(pk__in=chosen)
            .exclude(slug=request.GET.get("exclude", ""))
            .select_related("team")
            .order_by("name", "pk")
        )
        apps = list(found[: PICKER_LIMIT + 1])
        more, apps = len(apps) > PICKER_LIMIT, apps[:PICKER_LIMIT]
    return render(
        request,
        "catalog/widgets/app_picker_results.html",
        {"apps": apps, "query": query, "more": more, "name": "depends_on"},
    )


# --- my apps -----------------------------------------------------------------------------


@login_required
def my_apps(request: HttpRequest) -> HttpResponse:
    """The apps the signed-in person answers for, soonest deadline first."""
    apps = list(
        MicroApp.objects.owned_by(request.user)
        .with_risk()
        .select_related("team", "owner")
        .prefetch_related("regions")
        .order_by(F("expires_at").asc(nulls_last=True), "name")
    )
    live = [a for a in apps if a.state != AppState.RETIRED]
    retired = [a for a in apps if a.state == AppState.RETIRED]
    return render(request, "catalog/my_apps.html", {"apps": live, "retired": retired})
