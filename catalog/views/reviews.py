"""HTML pages of the review board, the policy rules and the go-live gate.

The pages call the same services as the API (``catalog.services.app_submit`` and
``review_decide``), so a browser and a CI script meet the same rules and the same errors.
The gate checklist is an app-page panel registered in :func:`register`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog import gate, permissions, policies, services
from catalog.choices import AppState, ReviewDecision
from catalog.filters import ReviewFilterSet
from catalog.models import MicroApp, Review, TransitionError
from catalog.selectors import latest_contract
from core.htmx import vary_on_htmx, wants_fragment
from core.panels import NavEntry, Panel, register_app_panel, register_nav


def register() -> None:
    """Called from ``CatalogConfig.ready()``: the app-page gate panel and the nav entries."""
    register_app_panel(
        Panel(
            key="gate",
            title="Go-live checklist",
            template="catalog/partials/gate_panel.html",
            context=gate_panel_context,
            order=10,
        )
    )
    register_nav(NavEntry(label="Reviews", url_name="review-queue", order=40))
    register_nav(NavEntry(label="Policies", url_name="policy-list", order=41))


def gate_panel_context(request, app: MicroApp) -> dict | None:
    """The checklist with ticks, the Submit button for owners of drafts, and the last review
    (so an owner sees what the platform team asked to change). Three queries at most:
    regions (prefetched by the app page), the latest contract, the latest review."""
    if app.state == AppState.RETIRED:
        return None
    result = gate.check(app)
    last_review = app.reviews.select_related("reviewer").order_by("-requested_at", "-pk").first()
    return {
        "app": app,
        "gate": result,
        "can_submit": app.state == AppState.DRAFT and permissions.can_submit(request.user, app),
        "last_review": last_review,
        "can_decide": bool(last_review and last_review.is_open)
        and permissions.can_decide_review(request.user, app),
        # Lifecycle's "Send telemetry" panel shows to the same people (anchor only: catalog
        # does not import lifecycle).
        "telemetry_help": permissions.can_rotate_secret(request.user, app),
    }


@login_required
@require_POST
def app_submit(request, slug: str):
    """The Submit button: run the gate; on a miss show what is missing on the app page."""
    app = get_object_or_404(MicroApp.objects.visible_to(request.user), slug=slug)
    permissions.require("submit", request.user, app)
    try:
        app = services.app_submit(app=app, actor=request.user)
    except gate.GateFailed as failed:
        missing = ", ".join(c.label.lower() for c in failed.result.missing)
        messages.error(request, f"Not ready to go live yet: {missing}.")
    except TransitionError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if app.state == AppState.ACTIVE:
            messages.success(request, f"{app.name} passed the go-live gate and is live.")
        else:
            messages.success(
                request,
                f"{app.name} is waiting for a platform review, due within "
                f"{settings.APPKEEPER_REVIEW_HOURS} hours.",
            )
    return redirect(app.get_absolute_url())


@vary_on_htmx
@login_required
def review_queue(request):
    """Open reviews by due time, overdue ones first and highlighted; ``?open=false`` shows
    decided ones. One query for the rows, whatever their number."""
    data = request.GET.copy()
    data.setdefault("open", "true")
    filterset = ReviewFilterSet(
        data, queryset=Review.objects.visible_to(request.user).for_list(), request=request
    )
    reviews = filterset.qs.order_by("due_at", "pk")[:200]
    context = {
        "reviews": reviews,
        "filterset": filterset,
        "showing_open": data.get("open") != "false",
        "review_hours": settings.APPKEEPER_REVIEW_HOURS,
    }
    template = (
        "catalog/partials/review_rows.html"
        if wants_fragment(request)
        else "catalog/review_queue.html"
    )
    return render(request, template, context)


@login_required
def review_detail(request, pk: int):
    """The app under review: classification, regions, findings, contract; and the decision
    form for platform-team members who do not answer for the app."""
    review = get_object_or_404(Review.objects.visible_to(request.user).for_list(), pk=pk)
    app = MicroApp.objects.for_list().get(pk=review.app_id)
    can_decide = review.is_open and permissions.can_decide_review(request.user, app)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        permissions.require("decide_review", request.user, app)
        decision = request.POST.get("decision", "")
        comment = request.POST.get("comment", "")
        try:
            services.review_decide(
                review=review,
                actor=request.user,
                decision=decision,
                comment=comment,
                override_reason=request.POST.get("override_reason", ""),
            )
        except services.ReviewAlreadyDecided:
            messages.warning(request, "Someone decided this review already.")
            return redirect("review-detail", pk=review.pk)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        except TransitionError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("review-detail", pk=review.pk)
        else:
            label = ReviewDecision(decision).label.lower()
            messages.success(request, f"Review of {app.name}: {label}.")
            return redirect("review-queue")
    contract = latest_contract(app=app)
    findings = policies.evaluate_app(app, has_valid_contract=bool(contract and contract.is_valid))
    checklist = gate.check(app)
    context = {
        "review": review,
        "app": app,
        "contract": contract,
        "findings": findings,
        "gate": checklist,
        # Shown next to the decision: approving past these needs an override reason.
        "blocking": checklist.missing,
        "can_decide": can_decide,
        # On the board but not deciding this one: the reviewer answers for the app.
        "on_review_board": permissions.can_decide_review(request.user),
        "decisions": ReviewDecision.choices,
        "errors": errors,
        "posted": request.POST if errors else {},
        "history": app.reviews.exclude(pk=review.pk).select_related("reviewer")[:10],
    }
    return render(request, "catalog/review_detail.html", context, status=400 if errors else 200)


@login_required
def policy_list(request):
    """Each rule, its severity and the apps (visible to the user, not retired) breaking it.

    Evaluated in Python over one annotated queryset plus one prefetch: a fixed number of
    queries, fine up to a few thousand apps (past that, precompute in a periodic job).
    """
    apps = policies.annotate_for_policies(MicroApp.objects.visible_to(request.user).live())
    rows = policies.rule_breakage(apps)
    return render(request, "catalog/policies.html", {"rows": rows})
