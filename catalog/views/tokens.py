"""The "API tokens" page: the signed-in user's tokens, issuing one (its value shown on the
answer to the POST, once) and revoking one. The same services as ``/api/v1/tokens/``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from catalog import permissions, token_services
from catalog.forms.tokens import ApiTokenForm
from core import tokens
from core.models import ApiToken
from core.panels import NavEntry, register_nav


def register() -> None:
    """Called from ``CatalogConfig.ready()``: the nav entry, last, next to the user."""
    register_nav(NavEntry(label="API tokens", url_name="api-tokens", order=95))


def _page(request, form: ApiTokenForm, *, issued=None, value: str = "", status: int = 200):
    now = timezone.now()
    rows = list(ApiToken.objects.filter(user=request.user))
    for token in rows:
        token.state_now = token.state_at(now)
        token.expires_soon = tokens.expires_soon(token, now)
    context = {
        "form": form,
        "tokens": rows,
        "expiring": [t for t in rows if t.expires_soon],
        "issued": issued,
        "value": value,
        "warning_days": tokens.EXPIRY_WARNING_DAYS,
    }
    response = render(request, "catalog/api_tokens.html", context, status=status)
    if value:
        response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    if request.method != "POST":
        return _page(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, value = token_services.token_issue(
                user=request.user,
                actor=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["lifetime"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Answered, not redirected: the value exists only in this response.
            return _page(request, ApiTokenForm(), issued=token, value=value, status=201)
    return _page(request, form, status=400)


@login_required
@require_POST
def api_token_revoke(request, pk: int):
    visible = permissions.visible_tokens_filter(request.user)
    queryset = ApiToken.objects.select_related("user")
    token = get_object_or_404(queryset.filter(visible) if visible is not None else queryset, pk=pk)
    was_active = token.state == ApiToken.State.ACTIVE
    token_services.token_revoke(token=token, actor=request.user)
    if was_active:
        messages.success(request, f"“{token.name}” is revoked: it no longer works.")
    else:
        messages.info(request, f"“{token.name}” was no longer active; nothing changed.")
    return redirect("api-tokens")
