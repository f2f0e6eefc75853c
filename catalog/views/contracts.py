"""Contract pages: the app-page panel, upload form, rendered docs and changelogs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog import permissions
from catalog.choices import AppState, ContractKind
from catalog.contract_services import (
    ContractInvalid,
    contract_changelog,
    contract_upload,
    summarise,
)
from catalog.forms.contracts import ContractUploadForm
from catalog.models import Contract, MicroApp
from contracts import ContractError
from core.panels import Panel, register_app_panel

LEVEL_LABELS = {"ERR": "Breaking", "WARN": "Possibly breaking", "INFO": "Compatible"}


def register() -> None:
    """Called from ``CatalogConfig.ready()``."""
    register_app_panel(
        Panel(
            key="contracts",
            title="API contract",
            template="catalog/contracts/panel.html",
            context=contracts_panel_context,
            order=20,
        )
    )


def contracts_panel_context(request, app: MicroApp) -> dict:
    """Versions newest first, the latest one's breaking changes up front. One query."""
    versions = list(app.contracts.select_related("author").order_by("-created_at", "-pk")[:50])
    latest = versions[0] if versions else None
    can_upload = (
        permissions.can_upload_contract(request.user, app) and app.state != AppState.RETIRED
    )
    breaking = [c for c in latest.changes if c["level"] == "ERR"] if latest else []
    previous = [v.version for v in versions[1:]] + [None] if versions else []
    return {
        "versions": list(zip(versions, previous, strict=True)),
        "latest": latest,
        "latest_breaking": breaking,
        "breaking_count": latest.change_counts.get("ERR", len(breaking)) if latest else 0,
        "can_upload": can_upload,
        "form": ContractUploadForm() if can_upload else None,
    }


def _app(request, slug: str) -> MicroApp:
    return get_object_or_404(MicroApp.objects.visible_to(request.user), slug=slug)


@login_required
@require_POST
def contract_upload_view(request, slug: str):
    """Upload from the app page; errors come back on a page of their own with the form."""
    app = _app(request, slug)
    permissions.require("upload_contract", request.user, app)
    form = ContractUploadForm(request.POST, request.FILES)
    errors: list[dict] = []
    if form.is_valid():
        try:
            contract, created = contract_upload(
                app=app,
                actor=request.user,
                content=form.document(),
                kind=form.cleaned_data["kind"] or None,
                version=form.cleaned_data["version"],
            )
        except ContractInvalid as exc:
            errors = exc.errors
            form.add_error(None, f"The document is not valid: {len(errors)} problem(s) below.")
        except ContractError as exc:
            errors = exc.errors
            form.add_error(None, str(exc))
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            if not created:
                messages.info(
                    request, f"This document is already registered as {contract.version}."
                )
            elif contract.breaking:
                count = sum(1 for c in contract.changes if c["level"] == "ERR")
                messages.warning(
                    request,
                    f"Version {contract.version} registered with {count} breaking change(s): "
                    "clients of this API may fail.",
                )
            else:
                messages.success(request, f"Version {contract.version} registered.")
            return redirect(f"{app.get_absolute_url()}#panel-contracts")
    return render(
        request,
        "catalog/contracts/upload_failed.html",
        {"app": app, "form": form, "errors": errors},
        status=400,
    )


@login_required
def contract_docs(request, slug: str, version: str):
    """Rendered docs of one version: Swagger UI (local sidecar) or the GraphQL SDL."""
    app = _app(request, slug)
    contract = get_object_or_404(app.contracts, version=version)
    document_url = reverse("api:app-contract-document", args=[app.slug, contract.version])
    return render(
        request,
        "catalog/contracts/docs.html",
        {
            "app": app,
            "contract": contract,
            "document_url": document_url,
            "is_graphql": contract.kind == ContractKind.GRAPHQL,
        },
    )


@login_required
def contract_changelog_view(request, slug: str):
    """Changes between any two versions, grouped by level."""
    app = _app(request, slug)
    versions = list(
        app.contracts.order_by("-created_at", "-pk").only("version", "kind", "created_at")
    )
    if len(versions) < 2:
        raise Http404("This app has fewer than two contract versions.")
    labels = [c.version for c in versions]
    to_label = request.GET.get("to") or labels[0]
    from_label = request.GET.get("from") or labels[1]
    if from_label not in labels or to_label not in labels:
        raise Http404("No such version.")
    pair = {
        c.version: c for c in Contract.objects.filter(app=app, version__in=[from_label, to_label])
    }
    older, newer = pair[from_label], pair[to_label]
    try:
        changes, counts = summarise(contract_changelog(older, newer))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        changes, counts = [], {}
    groups = [
        {
            "level": level,
            "label": LEVEL_LABELS[level],
            "count": counts.get(level, 0),
            "changes": [c for c in changes if c["level"] == level],
        }
        for level in ("ERR", "WARN", "INFO")
    ]
    return render(
        request,
        "catalog/contracts/changelog.html",
        {
            "app": app,
            "labels": labels,
            "from_label": from_label,
            "to_label": to_label,
            "groups": groups,
            "total": sum(counts.values()),
            "shown": len(changes),
        },
    )
