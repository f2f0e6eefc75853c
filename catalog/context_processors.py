from __future__ import annotations

from django.conf import settings

from catalog import roles


def appkeeper(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "is_platform": roles.is_platform(user),
        "is_finance": roles.is_finance(user),
        "appkeeper_currency": settings.APPKEEPER_CURRENCY,
        "appkeeper_env": settings.APPKEEPER_ENV,
    }
