"""One app: its page, the register and edit forms, and their field-by-field validation.

Reads go through named querysets and writes through ``catalog.services``, so the browser
and the API apply the same rules.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog import impact, ownership, permissions, policies, services
from catalog.contract_services import contract_upload
from catalog.forms.apps import MicroAppForm
from catalog.models import MicroApp
from catalog.views.backstage_panel import backstage_facts, entity_of
from catalog.views.dependencies import dependency_details
from contracts import ContractError
from core.panels import APP_PANELS, render_panels

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
    ownership.HANDED_OVER: "Handed over: the owner left",
    ownership.ORPHANED: "Orphaned: the owner left, nobody could take over",
    ownership.TRANSFERRED: "Owner changed",
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
        visible.with_co_owner_usernames()
        .select_related("team__lead", "owner", "backstage_entity__source")
        .prefetch_related(
            "regions",
            Prefetch("depends_on", queryset=visible.select_related("team").order_by("name")),
            Prefetch("dependents", queryset=visible.select_related("team").order_by("name")),
        ),
        slug=slug,
    )
    events = list(app.audit_events.select_related("actor")[:30])
    regions = list(app.regions.all())
    outside = policies.regions_outside_residency(
        handles_pii=app.handles_pii, data_residency=app.data_residency, regions=regions
    )
    for region in regions:
        region.outside_residency = region in outside
    # The secret was issued to whoever registered the app: only someone who may rotate it
    # may see it.
    may_see_secret = permissions.can_rotate_secret(user, app)
    new_secret = request.session.pop(_secret_key(app), None) if may_see_secret else None
    response = render(
        request,
        "catalog/app_detail.html",
        {
            "app": app,
            "new_secret": new_secret,
            "regions": regions,
            "events": [(event, _action_label(event.action)) for event in events],
            "just_registered": request.GET.get("registered") == "1",
            "panels": render_panels(APP_PANELS, request, app),
            "blast_radius": _blast_radius_count(app),
            "backstage": backstage_facts(entity_of(app)),
            **dependency_details(app),
        },
    )
    if new_secret:
        response["Cache-Control"] = "no-store"
    return response


def _blast_radius_count(app: MicroApp) -> int:
    """How many live apps the blast radius page lists: one query (the walk, without loading
    the apps), and none at all when no app calls this one (the callers are prefetched)."""
    if not app.dependents.all():
        return 0
    return len(impact.dependent_rows(app.pk))


def _secret_key(app: MicroApp) -> str:
    return f"appkeeper:new-secret:{app.pk}"


def _store_contract(app: MicroApp, actor, payload: dict, field: str) -> str:
    """Store the contract attached to the registration; returns its version label.

    Runs inside the registration's transaction: a refused contract raises a
    ValidationError on the form's contract fields, so the app is not created either and
    the user fixes the document on the form they filled in (the one-time ingestion secret
    is only issued when everything was stored).
    """
    try:
        contract, _created = contract_upload(
            app=app,
            actor=actor,
            kind=payload["kind"],
            version=payload["version"],
            content=payload["text"],
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        raise ValidationError(
            {
                "contract_version" if key == "version" else field: messages_
                for key, messages_ in errors.items()
            }
        ) from None
    except ContractError as exc:
        raise ValidationError({field: _contract_error_text(exc)}) from None
    return contract.version


def _contract_error_text(exc: ContractError) -> str:
    if not exc.errors:
        return str(exc) or type(exc).__name__
    first = exc.errors[0]
    more = f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
    return f"The contract was refused: {first['path']}: {first['message']}{more}"


@login_required
def app_create(request: HttpRequest) -> HttpResponse:
    """Register an app as a draft; on success, its page explains what happens next."""
    user = request.user
    form = MicroAppForm(
        request.POST or None,
        request.FILES or None,
        instance=MicroApp(owner=user),
        user=user,
    )
    if request.method == "POST" and form.is_valid():
        payload = form.contract_payload()
        field = "contract_file" if form.cleaned_data.get("contract_file") else "contract_text"
        version = None
        try:
            # The app and its contract are one registration: both are stored or neither.
            with transaction.atomic():
                app = services.app_register(actor=user, data=form.app_data())
                if payload:
                    version = _store_contract(app, user, payload, field)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{app.name} is registered as a draft.")
            # Shown once on the app page, then gone: kept server-side, never in a cookie.
            request.session[_secret_key(app)] = app.ingestion_secret
            if version:
                messages.success(request, f"Contract {version} stored.")
                # The registration's findings were computed before the contract existed;
                # ask again so the advice does not ask for the contract just stored.
                app.policy_findings = policies.evaluate_app(app)
            _policy_advice(request, app)
            return redirect(f"{app.get_absolute_url()}?registered=1")
    return render(
        request,
        "catalog/app_form.html",
        {
            "form": form,
            "validate_url": reverse("app-validate"),
            "has_team": permissions.can_register_app(user),
        },
    )


def _policy_advice(request: HttpRequest, app: MicroApp) -> None:
    """Findings that did not refuse the save still matter before go-live: say them now."""
    for found in getattr(app, "policy_findings", ())[:5]:
        if getattr(found, "blocks_save", False):
            continue
        prefix = "Before go-live" if getattr(found, "blocks", False) else "Advice"
        messages.info(request, f"{prefix}: {found.message}")


def _editable_app(request: HttpRequest, slug: str) -> MicroApp:
    app = get_object_or_404(
        MicroApp.objects.visible_to(request.user).select_related("team", "owner"), slug=slug
    )
    permissions.require("edit", request.user, app)
    return app


@login_required
def app_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Edit an app; only its owner, its team and the platform team may."""
    app = _editable_app(request, slug)
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


@login_required
@require_POST
def app_validate_field(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Validate the whole form and answer with the one field the user left, plus, out of band,
    the error boxes of the fields whose errors depend on it (regions after the residency
    changed). Only error boxes are swapped on the page, never inputs being edited."""
    instance = _editable_app(request, slug) if slug else MicroApp(owner=request.user)
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
