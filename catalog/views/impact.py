"""The blast radius page: every app that breaks if this one changes or goes away."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from catalog import blast_radius, impact
from catalog.forms.impact import BlastRadiusForm
from catalog.models import MicroApp
from core.htmx import vary_on_htmx, wants_fragment


@login_required
@vary_on_htmx
def app_impact(request: HttpRequest, slug: str) -> HttpResponse:
    """Who depends on the app, directly or through others, to the depth asked for. Whoever
    may see the app may see this: its dependents are live apps, which everyone sees."""
    app = get_object_or_404(
        MicroApp.objects.visible_to(request.user).select_related("team"), slug=slug
    )
    form = BlastRadiusForm(request.GET or None)
    depth = form.levels()
    found = impact.dependents(app, depth=depth)
    # The depth selector swaps only the results; a full load (or no script) gets the page.
    fragment = wants_fragment(request, "blast-radius")
    return render(
        request,
        "catalog/partials/blast_radius.html" if fragment else "catalog/app_impact.html",
        {
            "app": app,
            "form": form,
            "depth": depth,
            "max_depth": impact.max_depth(),
            "summary": blast_radius.summarise(found),
            "groups": blast_radius.by_depth(found),
            "picture": blast_radius.picture(app, found) if found else None,
        },
    )
