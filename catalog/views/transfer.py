"""The bulk transfer page: choose whose apps move and to whom, preview exactly what moves,
then confirm. The API's ``apps/transfer/`` runs the same service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from catalog import permissions, transfers
from catalog.forms.transfer import TransferForm
from catalog.models import MicroApp
from core.panels import Panel, register_dashboard_panel

PREVIEW, CONFIRM = "preview", "transfer"
ORPHANS_ON_DASHBOARD = 8


def register() -> None:
    """Called from ``CatalogConfig.ready()``: the platform team's orphaned-apps panel."""
    register_dashboard_panel(
        Panel(
            key="orphaned",
            title="Apps waiting for an owner",
            template="catalog/partials/orphaned_panel.html",
            context=orphaned_panel_context,
            order=7,
        )
    )


def orphaned_panel_context(request: HttpRequest) -> dict | None:
    """For the platform team: how many live apps lost their owner with nobody to take
    over, and the longest waiting, each with an "Assign owner" link. Two queries."""
    if not permissions.can_transfer_apps(request.user):
        return None
    waiting = MicroApp.objects.live().filter(orphaned_at__isnull=False)
    oldest = list(
        waiting.select_related("team", "owner").order_by("orphaned_at", "pk")[:ORPHANS_ON_DASHBOARD]
    )
    count = len(oldest) if len(oldest) < ORPHANS_ON_DASHBOARD else waiting.count()
    return {"apps": oldest, "count": count}


def _run(form: TransferForm, request: HttpRequest, *, dry_run: bool):
    data = form.cleaned_data
    return transfers.transfer(
        actor=request.user,
        to=data["to"],
        from_owner=data.get("from_owner"),
        team=data.get("team"),
        apps=data.get("apps") or None,
        reason=data.get("reason", ""),
        dry_run=dry_run,
        expect=None if dry_run else form.previewed,
    )


def _show_errors(form: TransferForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(None if field == NON_FIELD_ERRORS else field, errors)


def _preview_again(form: TransferForm, request: HttpRequest):
    """The preview of the selection as it is now, for a confirmation that no longer
    matches it; None when the selection itself is refused."""
    try:
        return _run(form, request, dry_run=True)
    except ValidationError:
        return None


@login_required
def app_transfer(request: HttpRequest) -> HttpResponse:
    """GET: the form, prefilled from the query string (``?apps=slug`` from an orphaned
    app's "Assign owner" link). POST ``action=preview``: what would move. POST
    ``action=transfer``: move what the preview listed, or refuse if that changed."""
    if not permissions.can_transfer_apps(request.user):
        raise PermissionDenied("Only the platform team moves apps between owners in bulk.")
    preview = None
    status = 200
    if request.method != "POST":
        initial = {key: request.GET.get(key, "") for key in ("from_owner", "team", "to")}
        initial["apps"] = " ".join(request.GET.getlist("apps"))
        form = TransferForm(initial=initial)
        return render(request, "catalog/app_transfer.html", {"form": form, "preview": None})
    form = TransferForm(request.POST)
    confirming = request.POST.get("action") == CONFIRM
    if form.is_valid():
        data = form.cleaned_data
        if confirming and not data["preview_apps"]:
            form.add_error(None, "Preview the transfer first, then confirm what it lists.")
        elif confirming and data["preview_to"] != data["to"].get_username():
            form.add_error("to", "The new owner changed since the preview: preview again.")
        else:
            try:
                result = _run(form, request, dry_run=not confirming)
            except transfers.SelectionChanged as exc:
                _show_errors(form, exc)
                preview = _preview_again(form, request)
            except ValidationError as exc:
                _show_errors(form, exc)
            else:
                if not confirming:
                    preview = result
                else:
                    messages.success(
                        request,
                        f"{result.count} app{'s' if result.count != 1 else ''} moved to "
                        f"{result.to}. Each app's history records it.",
                    )
                    return redirect(f"{reverse('app-list')}?owner={result.to}")
    if form.errors:
        status = 400
    context = {"form": form, "preview": preview}
    if preview is not None:
        # The confirm button re-posts the form with what this preview listed.
        form.data = form.data.copy()
        form.data["preview_apps"] = " ".join(preview.slugs)
        form.data["preview_to"] = preview.to
    return render(request, "catalog/app_transfer.html", context, status=status)
