"""How an app uses the apps it calls: the details on the app page, and the page that edits
them (the operations called and the contract versions pinned to, per dependency)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from catalog import permissions, selectors, services, versions
from catalog.forms.dependencies import DependencyDetailsForm, details_forms
from catalog.impact import IMPACT_STATES
from catalog.models import MicroApp
from catalog.querysets import dependency_links

STALE = (
    "The app's dependencies changed since this page was opened (someone added or removed "
    "one). Here they are as they stand now: check them and save again."
)


def dependency_details(app: MicroApp) -> dict[str, Any]:
    """For the app page, whose ``depends_on`` and ``dependents`` are prefetched (visible
    apps only): each gets ``link`` (how the dependent uses the provider) and ``pin`` (a
    ``versions.PinStatus``, None without a link), and ``pinned_behind`` groups the live
    dependents left on an older version of this app's contract. One query: the links both
    ways, each with its provider's current contract."""
    links = list(dependency_links().filter(Q(from_microapp=app) | Q(to_microapp=app)))
    outgoing = {link.to_microapp_id: link for link in links if link.from_microapp_id == app.pk}
    incoming = {link.from_microapp_id: link for link in links if link.to_microapp_id == app.pk}
    for provider in app.depends_on.all():
        _attach(provider, outgoing.get(provider.pk))
        if provider.state not in IMPACT_STATES:
            # A draft or retired provider holds nobody behind (see selectors).
            provider.pin = None
    live = []
    for dependent in app.dependents.all():
        link = incoming.get(dependent.pk)
        _attach(dependent, link)
        if link is not None:
            link.from_microapp = dependent
            if dependent.state in IMPACT_STATES:
                live.append(link)
    # Every incoming link carries this app's own current contract.
    current = next(iter(incoming.values()), None)
    return {
        "current_version": current.current_version if current else None,
        "current_since": current.current_since if current else None,
        "pinned_behind": selectors.pinned_behind_groups(
            links=live, current_version=current.current_version if current else None
        ),
    }


def _attach(app: MicroApp, link) -> None:
    app.link = link
    app.pin = versions.pin_status(link.version_range, link.current_version) if link else None


@login_required
def app_dependencies(request: HttpRequest, slug: str) -> HttpResponse:
    """Edit, per dependency, the operations the app calls and the versions it is built for;
    written and audited by ``services.app_update`` like any other change to the app."""
    visible = MicroApp.objects.visible_to(request.user)
    app = get_object_or_404(visible.select_related("team", "owner"), slug=slug)
    permissions.require("edit", request.user, app)
    links = list(dependency_links().filter(from_microapp=app))
    # A link to an app the editor may not see (another team's draft) is kept as it is and
    # never shown.
    seen = set(
        visible.filter(pk__in=[link.to_microapp_id for link in links]).values_list("pk", flat=True)
    )
    shown = [link for link in links if link.to_microapp_id in seen]
    hidden = [link for link in links if link.to_microapp_id not in seen]
    operations = selectors.current_operations(app_ids=[link.to_microapp_id for link in shown])
    listed = ",".join(link.to_microapp.slug for link in shown)
    posted = request.method == "POST"
    stale = posted and request.POST.get("listed", "") != listed
    forms = details_forms(
        links=shown, operations=operations, data=request.POST if posted and not stale else None
    )
    problems: list[str] = [STALE] if stale else []
    # Every form is checked, so that every error shows at once.
    valid = [form.is_valid() for form in forms]
    if posted and not stale and all(valid):
        declared = [form.declaration() for form in forms]
        declared += [{"to_microapp": link.to_microapp} for link in hidden]
        try:
            services.app_update(app=app, actor=request.user, data={"dependencies": declared})
        except ValidationError as exc:
            problems += exc.messages
        else:
            if any(form.has_changed() for form in forms):
                messages.success(request, f"Saved how {app.name} uses its dependencies.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(f"{app.get_absolute_url()}#deps-title")
    return render(
        request,
        "catalog/app_dependencies.html",
        {
            "app": app,
            "forms": forms,
            "listed": listed,
            "problems": problems,
            "error_count": len(problems) + sum(len(_errors(form)) for form in forms),
            "errors": [(form, _errors(form)) for form in forms if _errors(form)],
        },
        status=400 if posted else 200,
    )


def _errors(form: DependencyDetailsForm) -> list[tuple[Any, str]]:
    """``(bound field, message)`` of every error of a form, for the summary's links."""
    return [(form[name], error) for name, errors in form.errors.items() for error in errors]
