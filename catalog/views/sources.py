"""The platform team's "Backstage sources" page: what Appkeeper pulls, how each run went."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from catalog import permissions
from catalog.backstage.source_services import source_retire, source_save, source_sync_now
from catalog.forms.sources import BackstageSourceForm
from catalog.models import BackstageSource

ACTIONS = ("sync", "pause", "resume", "retire")


def _page(request, form: BackstageSourceForm, *, status: int = 200):
    sources = BackstageSource.objects.select_related("last_job").defer(
        "last_job__document", "last_job__resume", "last_job__report", "last_job__resolved"
    )
    context = {
        "form": form,
        "sources": list(sources),
        "allowed_hosts": settings.APPKEEPER_BACKSTAGE_ALLOWED_HOSTS,
    }
    return render(request, "catalog/backstage_sources.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def backstage_sources(request):
    if not permissions.can_manage_backstage_sources(request.user):
        raise PermissionDenied("Only the platform team manages Backstage sources.")
    if request.method != "POST":
        return _page(request, BackstageSourceForm())
    for action in ACTIONS:
        if action in request.POST:
            return _act(request, action, request.POST[action])
    form = BackstageSourceForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        source = source_save(actor=request.user, values=form.cleaned_data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _page(request, form, status=400)
    messages.success(request, f"Added {source.name}: it is synced within five minutes.")
    return redirect("backstage-sources")


def _act(request, action: str, pk: str):
    source = BackstageSource.objects.filter(pk=pk).first() if pk.isdigit() else None
    if source is None:
        messages.info(request, "That source does not exist; nothing changed.")
        return redirect("backstage-sources")
    try:
        if action == "sync":
            source_sync_now(actor=request.user, source=source)
            messages.success(request, f"{source.name}: sync queued.")
        elif action == "retire":
            source_retire(actor=request.user, source=source)
            messages.success(request, f"{source.name} retired; its entities stay as they are.")
        else:
            source_save(actor=request.user, source=source, values={"enabled": action == "resume"})
            messages.success(
                request, f"{source.name} {'resumed' if action == 'resume' else 'paused'}."
            )
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    return redirect("backstage-sources")
