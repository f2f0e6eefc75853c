"""Contract pages: the app-page panel, upload form, rendered docs and changelogs."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog import permissions
from catalog.breaking_services import (
    ScheduleRefused,
    contract_acknowledge,
    contract_reschedule,
    contract_withdraw,
)
from catalog.choices import AppState, ContractKind
from catalog.contract_impact import acknowledgement_status
from catalog.contract_services import (
    BreakingNeedsNotice,
    ContractInvalid,
    contract_changelog,
    contract_check,
    contract_upload,
    summarise,
)
from catalog.forms.contracts import (
    AcknowledgeForm,
    ContractConfirmForm,
    ContractUploadForm,
    RescheduleForm,
    WithdrawForm,
)
from catalog.models import FREE_TEXT_MAX, Contract, MicroApp, TransitionError
from catalog.policies import notice_days
from contracts import ContractError
from core.formats import moment
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
    """Versions newest first, the current one's breaking changes up front, the scheduled
    ones announced. One query."""
    versions = list(app.contracts.select_related("author").order_by("-created_at", "-pk")[:50])
    # The current version is the newest in effect; scheduled ones are listed above it.
    scheduled = [v for v in versions if v.is_scheduled]
    latest = next((v for v in versions if not v.is_scheduled and not v.is_withdrawn), None)
    can_upload = (
        permissions.can_upload_contract(request.user, app) and app.state != AppState.RETIRED
    )
    breaking = [c for c in latest.changes if c["level"] == "ERR"] if latest else []
    previous = [v.version for v in versions[1:]] + [None] if versions else []
    return {
        "versions": list(zip(versions, previous, strict=True)),
        "latest": latest,
        "scheduled": scheduled,
        "latest_breaking": breaking,
        "breaking_count": latest.change_counts.get("ERR", len(breaking)) if latest else 0,
        "can_upload": can_upload,
        "form": ContractUploadForm() if can_upload else None,
    }


def _app(request, slug: str) -> MicroApp:
    return get_object_or_404(MicroApp.objects.visible_to(request.user), slug=slug)


def _document_text(form: ContractUploadForm) -> str | bytes:
    # The review step carries the document as text; a file is read once, here.
    content = form.document()
    if isinstance(content, bytes):
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            return content
    return content


def _review(request, app: MicroApp, form: ContractConfirmForm, content, *, status: int = 200):
    """The changes and the impact of the candidate, and the confirm form."""
    check = contract_check(app=app, content=content, kind=form.cleaned_data["kind"] or None)
    if not check.valid:
        return render(
            request,
            "catalog/contracts/upload_failed.html",
            {"app": app, "form": form, "errors": check.errors},
            status=400,
        )
    found = check.impact.as_dict() if check.impact is not None else None
    earliest = timezone.now() + timedelta(days=notice_days())
    if not form.is_bound or "effective_at" not in form.errors:
        initial = form.cleaned_data.get("effective_at") if form.is_bound else None
        if check.impact is not None and check.impact.needs_notice and initial is None:
            # The earliest window, on the next full hour, as a starting point.
            start = earliest.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            form.data = form.data.copy()
            form.data["effective_at"] = timezone.localtime(start).strftime("%Y-%m-%dT%H:%M")
    groups = [
        {
            "level": level,
            "label": LEVEL_LABELS[level],
            "count": check.change_counts.get(level, 0),
            "changes": [c for c in check.changes if c["level"] == level][:50],
        }
        for level in ("ERR", "WARN", "INFO")
    ]
    return render(
        request,
        "catalog/contracts/upload_review.html",
        {
            "app": app,
            "form": form,
            "document_text": content if isinstance(content, str) else "",
            "check": check,
            "groups": groups,
            "impact": found,
            "earliest": earliest,
            "base_effective_at": check.base_effective_at,
            "may_override": permissions.is_platform(request.user),
        },
        status=status,
    )


@login_required
@require_POST
def contract_upload_view(request, slug: str):
    """Upload from the app page. A version whose breaking changes touch live dependents,
    or any version the owner asks to check first, comes back on a review page (changes,
    who they reach, when it takes effect) to confirm; others are stored at once. Errors
    come back on a page of their own with the form."""
    app = _app(request, slug)
    permissions.require("upload_contract", request.user, app)
    form = ContractConfirmForm(request.POST, request.FILES)
    errors: list[dict] = []
    if form.is_valid():
        content = _document_text(form)
        confirmed = bool(request.POST.get("confirm"))
        try:
            if not confirmed:
                check = contract_check(
                    app=app, content=content, kind=form.cleaned_data["kind"] or None
                )
                if request.POST.get("check") or (check.impact and check.impact.needs_notice):
                    return _review(request, app, form, content)
            contract, created = contract_upload(
                app=app,
                actor=request.user,
                content=content,
                kind=form.cleaned_data["kind"] or None,
                version=form.cleaned_data["version"],
                effective_at=form.cleaned_data.get("effective_at") if confirmed else None,
                override_reason=form.cleaned_data.get("override_reason", "") if confirmed else "",
            )
        except BreakingNeedsNotice as exc:
            form.add_error("effective_at", exc.messages)
            return _review(request, app, form, content, status=422)
        except ContractInvalid as exc:
            errors = exc.errors
            form.add_error(None, f"The document is not valid: {len(errors)} problem(s) below.")
        except ContractError as exc:
            errors = exc.errors
            form.add_error(None, str(exc))
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
            if confirmed and "effective_at" in exc.message_dict:
                return _review(request, app, form, content, status=400)
        else:
            _announce(request, contract, created)
            return redirect(f"{app.get_absolute_url()}#panel-contracts")
    return render(
        request,
        "catalog/contracts/upload_failed.html",
        {"app": app, "form": form, "errors": errors},
        status=400,
    )


def _announce(request, contract: Contract, created: bool) -> None:
    if not created:
        messages.info(request, f"This document is already registered as {contract.version}.")
    elif contract.is_scheduled:
        messages.success(
            request,
            f"Version {contract.version} is scheduled for {moment(contract.effective_at)}; "
            "the apps it breaks have been told.",
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


def _version_page(
    request,
    app: MicroApp,
    contract: Contract,
    *,
    ack_form=None,
    withdraw_form=None,
    reschedule_form=None,
    status=200,
):
    document_url = reverse("api:app-contract-document", args=[app.slug, contract.version])
    contract.app = app
    acks = acknowledgement_status(contract=contract)
    # Forms for the touched dependents the visitor answers for; can_edit costs no query.
    may_acknowledge = {d.app.pk for d in acks.pending if permissions.can_edit(request.user, d.app)}
    # The withdraw and reschedule forms, for whoever may upload the app's contracts, while
    # the version is still to come; the service checks again on submit.
    may_change = contract.is_scheduled and permissions.can_upload_contract(request.user, app)
    if may_change:
        withdraw_form = withdraw_form or WithdrawForm()
        reschedule_form = reschedule_form or RescheduleForm(
            initial={"effective_at": timezone.localtime(contract.effective_at)}
        )
    return render(
        request,
        "catalog/contracts/docs.html",
        {
            "app": app,
            "contract": contract,
            "document_url": document_url,
            "is_graphql": contract.kind == ContractKind.GRAPHQL,
            "acks": acks,
            "may_acknowledge": may_acknowledge,
            "ack_form": ack_form,
            "ack_for": ack_form.data.get("app") if ack_form is not None else "",
            "comment_max": FREE_TEXT_MAX,
            "may_change": may_change,
            "may_override": permissions.is_platform(request.user),
            "withdraw_form": withdraw_form,
            "reschedule_form": reschedule_form,
            "highlight": request.GET.get("dependent", ""),
        },
        status=status,
    )


@login_required
def contract_docs(request, slug: str, version: str):
    """One version: when it takes effect, who acknowledged its breaking changes, and its
    rendered docs (Swagger UI from the local sidecar, or the GraphQL SDL)."""
    app = _app(request, slug)
    contract = get_object_or_404(app.contracts.select_related("author"), version=version)
    return _version_page(request, app, contract)


@login_required
@require_POST
def contract_acknowledge_view(request, slug: str, version: str):
    """A dependent's owners acknowledge a breaking version from its page."""
    app = _app(request, slug)
    contract = get_object_or_404(app.contracts.select_related("author"), version=version)
    contract.app = app
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        dependent = (
            MicroApp.objects.visible_to(request.user).filter(slug=form.cleaned_data["app"]).first()
        )
        if dependent is None:
            form.add_error(None, "No such app.")
        else:
            try:
                _, created = contract_acknowledge(
                    contract=contract,
                    dependent=dependent,
                    actor=request.user,
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as exc:
                for problems in exc.message_dict.values():
                    form.add_error(None, problems)
            else:
                if created:
                    messages.success(
                        request, f"{dependent.name} acknowledged {app.name} {contract.version}."
                    )
                else:
                    messages.info(request, f"{dependent.name} had acknowledged it already.")
                url = reverse("app-contract-docs", args=[app.slug, contract.version])
                return redirect(f"{url}#acknowledgements")
    return _version_page(request, app, contract, ack_form=form, status=400)


def _refused(form, exc: ValidationError) -> int:
    """Put a service refusal on the form; the status to answer with: 409 for a version
    that can no longer change, 422 for a date that breaks the window, 400 otherwise."""
    if hasattr(exc, "error_dict"):
        for name, problems in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, problems)
    else:
        form.add_error(None, exc.messages)
    if isinstance(exc, TransitionError):
        return 409
    return 422 if isinstance(exc, ScheduleRefused) else 400


@login_required
@require_POST
def contract_withdraw_view(request, slug: str, version: str):
    """Withdraw a scheduled version from its page."""
    app = _app(request, slug)
    permissions.require("upload_contract", request.user, app)
    contract = get_object_or_404(app.contracts.select_related("author"), version=version)
    contract.app = app
    form = WithdrawForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            contract = contract_withdraw(
                contract=contract, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            status = _refused(form, exc)
        else:
            messages.success(request, f"Version {contract.version} is withdrawn.")
            return redirect("app-contract-docs", app.slug, contract.version)
    contract.refresh_from_db()
    return _version_page(request, app, contract, withdraw_form=form, status=status)


@login_required
@require_POST
def contract_reschedule_view(request, slug: str, version: str):
    """Move a scheduled version's date from its page."""
    app = _app(request, slug)
    permissions.require("upload_contract", request.user, app)
    contract = get_object_or_404(app.contracts.select_related("author"), version=version)
    contract.app = app
    form = RescheduleForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            contract = contract_reschedule(
                contract=contract,
                actor=request.user,
                effective_at=form.cleaned_data["effective_at"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except ValidationError as exc:
            status = _refused(form, exc)
        else:
            messages.success(
                request,
                f"Version {contract.version} now takes effect on {moment(contract.effective_at)}.",
            )
            return redirect("app-contract-docs", app.slug, contract.version)
    contract.refresh_from_db()
    return _version_page(request, app, contract, reschedule_form=form, status=status)


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
