"""HTML pages of the registry (the browser UI capability fills these in)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from catalog.models import MicroApp


@login_required
def dashboard(request):
    apps = MicroApp.objects.owned_by(request.user).for_list()[:20]
    return render(request, "catalog/dashboard.html", {"apps": apps})


@login_required
def app_list(request):
    apps = MicroApp.objects.visible_to(request.user).live().for_list()[:100]
    return render(request, "catalog/app_list.html", {"apps": apps})


@login_required
def app_detail(request, slug: str):
    app = get_object_or_404(MicroApp.objects.visible_to(request.user).for_list(), slug=slug)
    return render(request, "catalog/app_detail.html", {"app": app})


def permission_denied(request, exception=None):
    return render(request, "403.html", {"exception": exception}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", {"exception": exception}, status=404)
