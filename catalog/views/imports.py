"""Backstage import pages: upload catalog files, follow the job, read its report entity by
entity."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from catalog import permissions
from catalog.backstage import importer as backstage
from catalog.backstage import jobs as backstage_jobs
from catalog.backstage.refs import EntityRef
from catalog.forms.imports import BackstageImportForm
from catalog.models import BackstageEntity, ImportJob
from core.htmx import vary_on_htmx, wants_fragment
from core.panels import NavEntry, register_nav

RECENT = 20
ACTIONS = ("created", "updated", "unchanged", "skipped", "error")


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
            # Always a background job, however small: the page follows its progress, and
            # several files are one batch whose entities may refer to each other.
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
    action = request.GET.get("action", "")
    if action not in ACTIONS:
        action = ""
    context = {"job": job, "report": job.report, "action": action, "actions": ACTIONS}
    if job.finished:
        # Also in the fragment: the poll that sees the job finish swaps the table in.
        context.update(_entity_rows(job, action))
    if wants_fragment(request, "import-progress"):
        return render(request, "catalog/imports/progress.html", context)
    return render(request, "catalog/imports/detail.html", context)


def _key(ref: str) -> str:
    try:
        return EntityRef.parse(ref).key
    except ValueError:
        return ref.lower()


def _entity_rows(job: ImportJob, action: str) -> dict:
    """The report's entity lines (those of one action when asked), each with the app or
    team it became when that exists now: one query for the whole list, however long."""
    entities = (job.report or {}).get("entities") or []
    rows = [dict(line) for line in entities if not action or line.get("action") == action]
    known = {}
    if rows:
        found = BackstageEntity.objects.filter(
            ref__in={_key(str(row.get("ref", ""))) for row in rows}
        ).select_related("app", "team")
        known = {entity.ref: entity for entity in found}
    for row in rows:
        entity = known.get(_key(str(row.get("ref", ""))))
        row["app"] = entity.app if entity else None
        row["team"] = entity.team if entity else None
    cap = settings.APPKEEPER_BACKSTAGE_REPORT_ENTITIES
    return {
        "entity_rows": rows,
        "entities_listed": len(entities),
        # The report keeps the first ``cap`` lines; a job that took more says so.
        "entities_capped": len(entities) >= cap and job.processed > len(entities),
    }
