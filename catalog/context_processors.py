from __future__ import annotations

from django.conf import settings

from catalog import permissions


def appkeeper(request) -> dict:
    user = getattr(request, "user", None)
    return {
        # Role labels only; what a user may do comes from ``{% can %}`` or the view.
        "is_platform": permissions.is_platform(user),
        "is_finance": permissions.is_finance(user),
        "appkeeper_currency": settings.APPKEEPER_CURRENCY,
        "appkeeper_env": settings.APPKEEPER_ENV,
    }
