"""The "Provisioning" page (platform team): issue a SCIM token (its value shown once, on
the answer to the POST), see who issued each and when it was last used, revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from catalog import permissions
from catalog.forms.tokens import TokenNameForm
from core.panels import NavEntry, register_nav
from identity.models import ProvisioningToken
from identity.scim import tokens


def register() -> None:
    """Called from ``IdentityConfig.ready()``: the nav entry, for the platform team."""
    register_nav(
        NavEntry(
            label="Provisioning",
            url_name="provisioning-tokens",
            visible=permissions.can_manage_provisioning,
            order=92,
        )
    )


class ProvisioningTokenForm(TokenNameForm):
    name = forms.CharField(
        max_length=ProvisioningToken.NAME_MAX,
        help_text="The identity provider that will use it, e.g. “Okta” or “Entra ID”.",
    )


def _require_platform(user) -> None:
    if not permissions.can_manage_provisioning(user):
        raise PermissionDenied("Only the platform team manages provisioning tokens.")


def _page(request, form, *, issued=None, value: str = "", status: int = 200):
    context = {
        "form": form,
        "tokens": ProvisioningToken.objects.select_related("created_by"),
        "issued": issued,
        "value": value,
        "base_url": request.build_absolute_uri(reverse("scim:users")).removesuffix("/Users"),
    }
    response = render(request, "identity/provisioning_tokens.html", context, status=status)
    if value:
        response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def provisioning_tokens(request):
    _require_platform(request.user)
    if request.method != "POST":
        return _page(request, ProvisioningTokenForm())
    form = ProvisioningTokenForm(request.POST)
    if form.is_valid():
        try:
            token, value = tokens.issue(name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Answered, not redirected: the value exists only in this response.
            return _page(request, ProvisioningTokenForm(), issued=token, value=value, status=201)
    return _page(request, form, status=400)


@login_required
@require_POST
def provisioning_token_revoke(request, pk: int):
    _require_platform(request.user)
    token = get_object_or_404(ProvisioningToken, pk=pk)
    if tokens.revoke(token, actor=request.user):
        messages.success(request, f"“{token.name}” is revoked: provisioning with it now gets 401.")
    else:
        messages.info(request, f"“{token.name}” was already revoked; nothing changed.")
    return redirect("provisioning-tokens")
