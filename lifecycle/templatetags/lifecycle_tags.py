"""Template helpers other pages can use without importing lifecycle code in Python.

``{% load lifecycle_tags %}{% renew_button app %}`` renders a Renew link for an app the
user answers for when its renewal window is open (no query: the window is read from
the app's own fields; sunsetting apps link to their page, where the case decides).
"""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.conf import settings
from django.utils import timezone

from catalog import roles
from catalog.choices import AppState

register = template.Library()


@register.inclusion_tag("lifecycle/partials/renew_button.html", takes_context=True)
def renew_button(context, app) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    show = False
    if user is not None and app.expires_at and roles.is_owner(user, app):
        opens = app.expires_at - timedelta(days=max(settings.APPKEEPER_REMINDER_DAYS))
        show = app.state == AppState.EXPIRED or (
            app.state == AppState.ACTIVE and timezone.now() >= opens
        )
    return {"app": app, "show": show}
