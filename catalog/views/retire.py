"""Retiring an app by hand from its page: why, and, while live apps call it, a tick for
each of them. The API's ``retire`` action applies the same service and the same check."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from catalog import impact, permissions, services
from catalog.choices import AppState
from catalog.forms.retire import RetireForm
from catalog.models import MicroApp
from catalog.retirement import DependentsNotConfirmed


@login_required
def app_retire(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the form, with every app that would be left calling this one. POST: retire it,
    or come back with the errors inline and what was typed kept."""
    app = get_object_or_404(
        MicroApp.objects.visible_to(request.user).select_related("team", "owner"), slug=slug
    )
    permissions.require("retire", request.user, app)
    if app.state == AppState.RETIRED:
        messages.info(request, f"{app.name} is already retired.")
        return redirect(app.get_absolute_url())
    found = impact.dependents(app)
    direct = [d.app for d in found if d.depth == 1]
    form = RetireForm(request.POST if request.method == "POST" else None, dependents=direct)
    if request.method == "POST" and form.is_valid():
        try:
            services.app_retire(
                app=app,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                confirm_dependents=form.confirmed,
            )
        except DependentsNotConfirmed as exc:
            # Someone started or stopped calling the app since the form was shown.
            found = impact.dependents(app)
            form = RetireForm(request.POST, dependents=exc.dependents)
            form.is_valid()
            form.add_error(
                "confirm_dependents" if exc.dependents else None,
                "The apps calling it changed since this page was shown: " + exc.messages[0],
            )
        except ValidationError as exc:
            for field, errors in getattr(exc, "message_dict", {"": exc.messages}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"{app.name} is retired. Its data and history are kept.")
            return redirect(app.get_absolute_url())
    status = 400 if request.method == "POST" else 200
    context = {
        "app": app,
        "form": form,
        "direct": [d for d in found if d.depth == 1],
        "indirect": [d for d in found if d.depth > 1],
    }
    return render(request, "catalog/app_retire.html", context, status=status)
