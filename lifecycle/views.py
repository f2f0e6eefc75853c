"""Lifecycle pages: renew, rotate the secret (shown once), answer and decide sunset cases,
the sunset case list and the user's notifications.

They call the same services as the API, so a browser and a script meet the same rules.
Every form also works without JavaScript: it posts and redirects to the app page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from catalog import impact, permissions
from catalog.models import MicroApp, Notification, TransitionError
from catalog.notifications import mark_read
from catalog.retirement import DependentsNotConfirmed, live_dependents, live_dependents_by_provider
from catalog.views.reviews import gate_panel_context
from core.htmx import vary_on_htmx, wants_fragment
from lifecycle import sending, services
from lifecycle.filters import SunsetCaseFilterSet
from lifecycle.forms import RenewForm, SunsetDecideForm, SunsetRespondForm
from lifecycle.models import SunsetCase
from lifecycle.panels import app_panel_context


def _app(request, slug: str) -> MicroApp:
    return get_object_or_404(
        MicroApp.objects.visible_to(request.user).select_related("owner", "team"), slug=slug
    )


def _errors(exc: ValidationError) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


def _back(app: MicroApp):
    return redirect(app.get_absolute_url() + "#panel-lifecycle")


@login_required
def app_renew(request, slug: str):
    """The Renew page (the reminder emails link here) and the Renew button's target."""
    app = _app(request, slug)
    permissions.require("renew", request.user, app)
    form = RenewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            renewal = services.app_renew(
                app=app, actor=request.user, justification=form.cleaned_data["justification"]
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(
                request,
                f"{app.name} is renewed until {renewal.expires_at:%d %b %Y}. Thank you.",
            )
            return _back(app)
    context = app_panel_context(request, app)
    context["renew_form"] = form
    status = 400 if request.method == "POST" else 200
    return render(request, "lifecycle/renew.html", context, status=status)


@never_cache
@login_required
@require_POST
def app_rotate_secret(request, slug: str):
    """Issue or rotate the ingestion secret and show it on a page that is never cached
    and cannot be shown again (reloading it would need another POST: a new secret)."""
    app = _app(request, slug)
    permissions.require("rotate_secret", request.user, app)
    try:
        secret = services.app_rotate_secret(app=app, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return _back(app)
    app.refresh_from_db()
    response = render(
        request,
        "lifecycle/secret_once.html",
        {
            "app": app,
            "secret": secret,
            "rotated": bool(app.previous_ingestion_secret),
            "snippet": next(s for s in sending.snippets(app.slug) if s.key == "python"),
            "secret_variable": sending.SECRET_VARIABLE,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@vary_on_htmx
@login_required
@require_GET
def app_telemetry_status(request, slug: str):
    """The "Send telemetry" panel's status line, which polls itself until the first
    heartbeat is recorded: the app, and the first heartbeat's time once there is one."""
    app = get_object_or_404(
        MicroApp.objects.visible_to(request.user).select_related("owner", "team"), slug=slug
    )
    permissions.require("rotate_secret", request.user, app)
    context = sending.status_context(app)
    response = render(request, "lifecycle/partials/telemetry_status.html", context)
    if context["received"] and wants_fragment(request):
        gate = gate_panel_context(request, app)
        if gate is not None:
            # The answer that stops the polling also re-renders the go-live checklist on
            # the page, so its heartbeat item ticks with the status (an out-of-band swap).
            gate["swap_oob"] = True
            response.write(render_to_string("catalog/partials/gate_panel.html", gate, request))
    return response


@login_required
@require_POST
def observed_call_declare(request, slug: str, callee: str):
    """The observed-calls panel's "Declare it": adds an app the app was seen calling to its
    declared dependencies, audited like any edit of them."""
    app = _app(request, slug)
    permissions.require("edit", request.user, app)
    try:
        provider = services.observed_call_declare(app=app, callee_slug=callee, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, f"{app.name} now declares {provider.name} as a dependency.")
    return redirect(app.get_absolute_url() + "#panel-observed-calls")


def _case(request, pk: int) -> SunsetCase:
    return get_object_or_404(SunsetCase.objects.visible_to(request.user).for_list(), pk=pk)


def _case_page(request, case: SunsetCase, *, respond_form=None, decide_form=None, status=200):
    """The case's own page: what triggered it, every live app that depends on the app
    (direct ones to confirm, indirect ones through them), and the forms the user may use."""
    app = case.app
    found = impact.dependents(app)
    direct = [d.app for d in found if d.depth == 1]
    can_respond = case.can_respond and permissions.can_respond_sunset(request.user, app)
    can_decide = case.can_decide and permissions.can_decide_sunset(request.user, app)
    context = {
        "case": case,
        "app": app,
        "dependents": found,
        "can_respond": can_respond,
        "can_decide": can_decide,
        "respond_form": respond_form or SunsetRespondForm(dependents=direct),
        "decide_form": decide_form or SunsetDecideForm(dependents=direct),
    }
    return render(request, "lifecycle/sunset_answer.html", context, status=status)


def _refused_confirmation(exc: DependentsNotConfirmed, form_class, data):
    """The same form again, for the dependents as they are now, saying what changed."""
    form = form_class(data, dependents=exc.dependents)
    form.is_valid()
    field = "confirm_dependents" if exc.dependents else None
    form.add_error(
        field, "The apps calling it changed since the page was shown: " + exc.messages[0]
    )
    return form


@login_required
def sunset_respond(request, pk: int):
    """The owner's answer to a sunset case: accept (the app is retired now) or contest with
    a justification. The app page's panel posts here; a refused answer comes back on this
    page with the error next to the field, and what was typed kept. Accepting while live
    apps call the app needs a tick for each of them."""
    case = _case(request, pk)
    permissions.require("respond_sunset", request.user, case.app)
    if request.method != "POST":
        return _case_page(request, case)
    # Bound on every POST, an empty one included: it must come back with its errors.
    form = SunsetRespondForm(request.POST, dependents=live_dependents(case.app))
    if form.is_valid():
        try:
            case = services.sunset_respond(
                case=case,
                actor=request.user,
                response=form.cleaned_data["response"],
                justification=form.cleaned_data["justification"],
                confirm_dependents=form.confirmed,
            )
        except DependentsNotConfirmed as exc:
            form = _refused_confirmation(exc, SunsetRespondForm, request.POST)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            if case.outcome:
                messages.success(request, f"{case.app.name} is retired. Its history is kept.")
            else:
                messages.success(request, "Your contest is with the platform team.")
            return _back(case.app)
    return _case_page(request, case, respond_form=form, status=400)


@login_required
@require_POST
def sunset_decide(request, pk: int):
    """The platform team's decision; a refused one comes back on the case's page with the
    errors inline (retiring while live apps call the app needs a tick for each)."""
    case = _case(request, pk)
    permissions.require("decide_sunset", request.user, case.app)
    form = SunsetDecideForm(request.POST, dependents=live_dependents(case.app))
    if form.is_valid():
        try:
            case = services.sunset_decide(
                case=case,
                actor=request.user,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
                confirm_dependents=form.confirmed,
            )
        except DependentsNotConfirmed as exc:
            form = _refused_confirmation(exc, SunsetDecideForm, request.POST)
        except (ValidationError, TransitionError) as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(request, f"Decided: {case.get_decision_display().lower()}.")
            return _back(case.app)
    return _case_page(request, case, decide_form=form, status=400)


@login_required
def sunset_case_list(request):
    """Sunset cases the user can see, open ones first (same FilterSet as the API)."""
    cases = (
        SunsetCase.objects.visible_to(request.user).for_list().order_by("closed_at", "-opened_at")
    )
    filterset = SunsetCaseFilterSet(
        request.GET or {"open": "true"}, queryset=cases, request=request
    )
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    # The live apps calling each app on the page, in one query for the whole page.
    called = live_dependents_by_provider({case.app_id for case in page.object_list})
    for case in page.object_list:
        case.dependents = called.get(case.app_id, [])
    return render(request, "lifecycle/sunset_cases.html", {"filterset": filterset, "page": page})


@login_required
def notifications(request):
    """The user's notifications, newest first, unread ones marked new; POST marks all read.

    Viewing marks nothing read: a GET that wrote would leave "Mark all read" nothing to
    mark ("Marked 0" right under three new items), and link previews or a prefetch would
    clear the bell unseen."""
    if request.method == "POST":
        count = mark_read(user=request.user)
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
        return redirect("lifecycle:notifications")
    rows = Notification.objects.in_app_for(request.user).select_related("app")
    page = Paginator(rows.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    items = list(page.object_list)
    unread = [n.pk for n in items if n.read_at is None]
    return render(
        request,
        "lifecycle/notifications.html",
        {"page": page, "items": items, "unread": set(unread)},
    )
