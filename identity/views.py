"""The platform team's "Sign-in" page: which directory groups give which roles."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from catalog import permissions
from catalog.models import AuditEvent
from identity.forms import GroupMappingForm
from identity.models import GroupMapping
from identity.roles import env_mappings

MAPPING_ADDED = "group_mapping_added"
MAPPING_REMOVED = "group_mapping_removed"


def _described(mapping: GroupMapping) -> dict:
    return {
        "group": mapping.group,
        "role": mapping.role,
        "team": mapping.team.slug if mapping.team_id else "",
    }


def _page(request, form: GroupMappingForm, *, status: int = 200):
    context = {
        "form": form,
        "mappings": list(GroupMapping.objects.select_related("team", "created_by")),
        "env_mappings": env_mappings(),
        "oidc_enabled": settings.OIDC_ENABLED,
        "provider": settings.OIDC_PROVIDER_NAME,
        "groups_claim": settings.OIDC_GROUPS_CLAIM,
        "access_groups": settings.APPKEEPER_OIDC_ACCESS_GROUPS,
        "password_login": settings.APPKEEPER_PASSWORD_LOGIN,
    }
    return render(request, "identity/group_mappings.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def group_mappings(request):
    if not permissions.can_manage_group_mappings(request.user):
        raise PermissionDenied("Only the platform team maps directory groups to roles.")
    if request.method != "POST":
        return _page(request, GroupMappingForm())
    if "remove" in request.POST:
        return _remove(request, request.POST["remove"])
    form = GroupMappingForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    with transaction.atomic():
        mapping = GroupMapping.objects.create(
            group=form.cleaned_data["group"],
            role=form.cleaned_data["role"],
            team=form.cleaned_data["team"] if form.cleaned_data["role"] == "team" else None,
            created_by=request.user,
        )
        AuditEvent.record(
            app=None, actor=request.user, action=MAPPING_ADDED, data=_described(mapping)
        )
    messages.success(request, f"Added: {mapping}. It applies at each member's next sign-in.")
    return redirect("group-mappings")


def _remove(request, pk: str):
    # Configuration, not history: the row goes, the audit event keeps what it said.
    with transaction.atomic():
        mapping = (
            GroupMapping.objects.select_for_update(of=("self",))
            .select_related("team")
            .filter(pk=pk)
            .first()
            if pk.isdigit()
            else None
        )
        if mapping is None:
            messages.info(request, "That mapping was already removed; nothing changed.")
            return redirect("group-mappings")
        AuditEvent.record(
            app=None, actor=request.user, action=MAPPING_REMOVED, data=_described(mapping)
        )
        label = str(mapping)
        mapping.delete()
    messages.success(
        request, f"Removed: {label}. Its members lose that role at their next sign-in."
    )
    return redirect("group-mappings")
