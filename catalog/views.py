"""HTML pages of the registry: dashboard, catalog, register/edit, app page, my apps.

One view serves a page and its htmx partial (``request.htmx`` decides, STYLE.md §8); every
page also works as plain links and forms. Reads go through named querysets and writes
through ``catalog.services``, so the browser and the API apply the same rules.
"""

from __future__ import annotations

import importlib
import inspect
from collections import Counter
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from catalog import roles, services
from catalog.choices import AppState, Risk
from catalog.filters import MicroAppFilterSet
from catalog.forms import MicroAppForm
from catalog.models import MicroApp, Region, Review, Team
from catalog.panels import APP_PANELS, DASHBOARD_PANELS, render_panels
from catalog.templatetags.appkeeper import STATE_COLOURS

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
FILTER_KEYS = ("q", "team", "state", "risk", "region", "kind", "environment")


# --- sign in / sign out ------------------------------------------------------------------


class SignInView(auth_views.LoginView):
    """Django's login view, plus a greeting so the person knows it worked."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        messages.success(self.request, f"Welcome back, {user.get_short_name() or user}.")
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The session is gone; the message travels in the cookie storage of FallbackStorage.
        messages.info(request, "You are signed out.")
        return response


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
    if roles.is_platform(user):
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


@login_required
def app_list(request: HttpRequest) -> HttpResponse:
    """The catalog: search, filter (the API's FilterSet), sort and page through apps.

    An htmx request targeting ``#results`` gets only the results partial, and the response
    pushes the cleaned URL so the filtered view can be bookmarked and shared.
    """
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
        columns.append({"label": label, "key": column, "direction": direction,
                        "cls": "hide-sm" if column in ("kind", "environment") else "",
                        "url": url(**({} if target == "name" else {"sort": target}))})  # fmt: skip
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
        "teams": Team.objects.all() if not request.htmx or _wants_page(request) else (),
        "regions": Region.objects.all() if not request.htmx or _wants_page(request) else (),
        "states": AppState.choices,
        "risks": Risk.choices,
        "kinds": MicroApp._meta.get_field("kind").choices,
        "environments": MicroApp._meta.get_field("environment").choices,
        "selected": {k: request.GET.get(k, "") for k in FILTER_KEYS},
    }
    if request.htmx and not _wants_page(request):
        response = render(request, "catalog/partials/app_table.html", context)
        clean = _clean_query(request.GET)
        push_url(response, reverse("app-list") + (f"?{clean}" if clean else ""))
    else:
        response = render(request, "catalog/app_list.html", context)
    # The same URL answers with a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _wants_page(request: HttpRequest) -> bool:
    """A history restore or a boosted request needs the whole page, not the fragment."""
    return bool(request.htmx.history_restore_request or request.htmx.boosted) or (
        request.htmx.target not in (None, "results")
    )


# --- one app -----------------------------------------------------------------------------

TIMELINE_LABELS = {
    "created": "Registered",
    "updated": "Edited",
    "submitted": "Submitted for review",
    "activated": "Went live",
    "changes_requested": "Changes requested",
    "expired": "Expired",
    "sunset_started": "Sunset started",
    "retired": "Retired",
    "renewed": "Renewed",
}


def _action_label(action: str) -> str:
    """A readable label for an audit action, also for actions other capabilities add."""
    return TIMELINE_LABELS.get(action) or action.replace("_", " ").capitalize()


@login_required
def app_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Everything about one app, plus the panels other capabilities register."""
    user = request.user
    visible = MicroApp.objects.visible_to(user)
    app = get_object_or_404(
        visible.select_related("team", "owner").prefetch_related(
            "regions",
            Prefetch("depends_on", queryset=visible.select_related("team").order_by("name")),
            Prefetch("dependents", queryset=visible.select_related("team").order_by("name")),
        ),
        slug=slug,
    )
    events = list(app.audit_events.select_related("actor")[:30])
    regions = list(app.regions.all())
    for region in regions:
        region.outside_residency = bool(
            app.handles_pii and app.data_residency and region.jurisdiction != app.data_residency
        )
    can_manage = roles.can_manage_app(user, app)
    new_secret = request.session.pop(_secret_key(app), None) if can_manage else None
    response = render(
        request,
        "catalog/app_detail.html",
        {
            "app": app,
            "new_secret": new_secret,
            "regions": regions,
            "events": [(event, _action_label(event.action)) for event in events],
            "can_manage": can_manage,
            "just_registered": request.GET.get("registered") == "1",
            "panels": render_panels(APP_PANELS, request, app),
        },
    )
    if new_secret:
        response["Cache-Control"] = "no-store"
    return response


def _secret_key(app: MicroApp) -> str:
    return f"appkeeper:new-secret:{app.pk}"


def _contract_uploader():
    """The contract registry's ``contract_upload`` service, if it is installed.

    It is looked up at call time (``catalog.services`` first, then the registry's own
    ``catalog.contract_services``) so the register form works before and after it lands.
    """
    upload = getattr(services, "contract_upload", None)
    if upload is None:
        try:
            module = importlib.import_module("catalog.contract_services")
        except ImportError:
            return None
        upload = getattr(module, "contract_upload", None)
    return upload if callable(upload) else None


def _contracts_enabled() -> bool:
    return _contract_uploader() is not None


def _store_contract(request: HttpRequest, app: MicroApp, payload: dict) -> None:
    """Hand an attached contract to the registry's ``contract_upload``.

    The app is registered already: a refused contract becomes a message saying why and
    where to add it, not a lost registration.
    """
    upload = _contract_uploader()
    if upload is None:
        messages.warning(
            request, "Your contract was not stored: contracts are added on the app page."
        )
        return
    params = inspect.signature(upload).parameters
    offered = {
        "app": app,
        "actor": request.user,
        "kind": payload["kind"],
        "version": payload["version"],
        # The document's keyword differs between versions of the registry's service.
        "content": payload["text"],
        "document": payload["text"],
        "text": payload["text"],
    }
    kwargs = {name: offered[name] for name in params if name in offered}
    try:
        result = upload(**kwargs)
    except ValidationError as exc:
        _contract_refused(request, "; ".join(exc.messages))
        return
    except Exception as exc:
        # The contract engine's own errors (malformed, too large, invalid) carry a message
        # for people; anything else is a bug and must surface.
        if not type(exc).__module__.startswith("catalog.contract"):
            raise
        _contract_refused(request, _contract_error_text(exc))
        return
    contract = result[0] if isinstance(result, tuple) else result
    version = getattr(contract, "version", payload["version"])
    messages.success(request, f"Contract {version} stored.")


def _contract_error_text(exc: Exception) -> str:
    errors = getattr(exc, "errors", None) or (exc.args[0] if exc.args else None)
    if isinstance(errors, list) and errors:
        first = errors[0]
        text = first.get("message", str(first)) if isinstance(first, dict) else str(first)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{text}{more}"
    return str(exc) or type(exc).__name__


def _contract_refused(request: HttpRequest, detail: str) -> None:
    messages.warning(
        request,
        f"The app is registered, but its contract was not stored: {detail} "
        "Fix the document and add it from the app page.",
    )


@login_required
def app_create(request: HttpRequest) -> HttpResponse:
    """Register an app as a draft; on success, its page explains what happens next."""
    user = request.user
    form = MicroAppForm(
        request.POST or None,
        request.FILES or None,
        instance=MicroApp(owner=user),
        user=user,
        contracts_enabled=_contracts_enabled(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            app = services.app_register(actor=user, data=form.app_data())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{app.name} is registered as a draft.")
            # Shown once on the app page, then gone: kept server-side, never in a cookie.
            request.session[_secret_key(app)] = app.ingestion_secret
            _policy_advice(request, app)
            payload = form.contract_payload()
            if payload:
                _store_contract(request, app, payload)
            return redirect(f"{app.get_absolute_url()}?registered=1")
    return render(
        request,
        "catalog/app_form.html",
        {
            "form": form,
            "validate_url": reverse("app-validate"),
            "contracts_enabled": _contracts_enabled(),
            "has_team": roles.is_platform(user) or bool(roles.team_ids(user)),
        },
    )


def _policy_advice(request: HttpRequest, app: MicroApp) -> None:
    """Findings that did not refuse the save still matter before go-live: say them now."""
    for found in getattr(app, "policy_findings", ())[:5]:
        if getattr(found, "blocks_save", False):
            continue
        prefix = "Before go-live" if getattr(found, "blocks", False) else "Advice"
        messages.info(request, f"{prefix}: {found.message}")


def _managed_app(request: HttpRequest, slug: str) -> MicroApp:
    app = get_object_or_404(
        MicroApp.objects.visible_to(request.user).select_related("team", "owner"), slug=slug
    )
    if not roles.can_manage_app(request.user, app):
        raise PermissionDenied("Only the app's owner, its team or the platform team may edit it.")
    return app


@login_required
def app_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Edit an app; only its owner, its team and the platform team may."""
    app = _managed_app(request, slug)
    form = MicroAppForm(request.POST or None, instance=app, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            app = services.app_update(app=app, actor=request.user, data=form.app_data())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            _policy_advice(request, app)
            if form.has_changed():
                messages.success(request, f"Saved your changes to {app.name}.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(app.get_absolute_url())
    return render(
        request,
        "catalog/app_form.html",
        {
            "form": form,
            "app": app,
            "validate_url": reverse("app-edit-validate", args=[app.slug]),
            "has_team": True,
        },
    )


def _add_errors(form: MicroAppForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


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
            MicroApp.objects.visible_to(request.user).live()
            .filter(Q(name__icontains=query) | Q(slug__icontains=query))
            .exclude(pk__in=chosen).exclude(slug=request.GET.get("exclude", ""))
            .select_related("team").order_by("name", "pk")
        )  # fmt: skip
        apps = list(found[: PICKER_LIMIT + 1])
        more, apps = len(apps) > PICKER_LIMIT, apps[:PICKER_LIMIT]
    return render(
        request,
        "catalog/widgets/app_picker_results.html",
        {"apps": apps, "query": query, "more": more, "name": "depends_on"},
    )


@login_required
@require_POST
def app_validate_field(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Validate the whole form and answer with the one field the user left, plus, out of band,
    the error boxes of the fields whose errors depend on it (regions after the residency
    changed). Only error boxes are swapped on the page, never inputs being edited."""
    instance = _managed_app(request, slug) if slug else MicroApp(owner=request.user)
    form = MicroAppForm(request.POST, instance=instance, user=request.user)
    name = request.POST.get("_field", "")
    if name not in form.fields or name in MicroAppForm.CONTRACT_FIELDS:
        return HttpResponseBadRequest("Unknown field.")
    form.is_valid()
    url = request.path
    return render(
        request,
        "catalog/partials/field_validation.html",
        {
            "field": form[name],
            "related": [form[n] for n in form.related_fields(name) if n in form.fields],
            "validate_url": url,
        },
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


# --- errors ------------------------------------------------------------------------------


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)
