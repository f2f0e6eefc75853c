"""Backstage import pages: upload a catalog-info.yaml, follow the job, read its report."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from catalog import permissions
from catalog.backstage import importer as backstage
from catalog.backstage import jobs as backstage_jobs
from catalog.forms.imports import BackstageImportForm
from catalog.models import ImportJob
from core.htmx import vary_on_htmx, wants_fragment
from core.panels import NavEntry, register_nav

RECENT = 20


def register() -> None:
    """Called from ``CatalogConfig.ready()``: the Imports nav entry, for who may import."""
    register_nav(
        NavEntry(
            label="Backstage imports",
            url_name="backstage-imports",
            visible=permissions.can_register_app,
            order=30,
        )
    )


def _jobs(user):
    return (
        ImportJob.objects.visible_to(user)
        .select_related("created_by", "team")
        .defer("document", "resume")
    )


@login_required
def import_list(request):
    """The upload form and recent imports; a valid upload becomes a job and its page."""
    if not permissions.can_register_app(request.user):
        raise PermissionDenied("Only members of a team and the platform team import apps.")
    posted = request.method == "POST"
    form = BackstageImportForm(
        request.POST if posted else None, request.FILES if posted else None, user=request.user
    )
    if posted and form.is_valid():
        try:
            job = backstage_jobs.import_start(
                user=request.user,
                text=form.cleaned_data["document"],
                dry_run=form.cleaned_data["dry_run"],
                team=form.cleaned_data["team"],
            )
        except backstage.TooManyEntities as exc:
            form.add_error(
                None,
                f"The file holds more than {exc.limit:,} entities, the most one import takes. "
                "Split the catalog into several files.",
            )
        except ValueError as exc:
            form.add_error(None, f"The file cannot be read: {exc}")
        except backstage_jobs.TooManyJobs as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("backstage-import-detail", pk=job.pk)
    return render(
        request,
        "catalog/imports/list.html",
        {"form": form, "jobs": _jobs(request.user)[:RECENT]},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
@vary_on_htmx
def import_detail(request, pk: int):
    """One import: a progress bar htmx polls while the job runs, then its report."""
    job = get_object_or_404(_jobs(request.user), pk=pk)
    context = {"job": job, "report": job.report}
    if wants_fragment(request, "import-progress"):
        return render(request, "catalog/imports/progress.html", context)
    return render(request, "catalog/imports/detail.html", context)
