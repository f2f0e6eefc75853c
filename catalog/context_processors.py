from __future__ import annotations

from django.conf import settings

from catalog import permissions
from core.dates import day_list, days_in_words


def appkeeper(request) -> dict:
    user = getattr(request, "user", None)
    return {
        # Role labels only; what a user may do comes from ``{% can %}`` or the view.
        "is_platform": permissions.is_platform(user),
        "is_finance": permissions.is_finance(user),
        "appkeeper_currency": settings.APPKEEPER_CURRENCY,
        "appkeeper_env": settings.APPKEEPER_ENV,
        "policy": policy_numbers(),
    }


def policy_numbers() -> dict:
    """The product's configurable numbers, for the copy that states them: a page must
    never promise 90 days when the deployment is configured for 60."""
    reminders = settings.APPKEEPER_REMINDER_DAYS
    return {
        "expiry": days_in_words(settings.APPKEEPER_EXPIRY_DAYS),
        "recertify": days_in_words(settings.APPKEEPER_RECERTIFY_DAYS),
        "recertify_every": (
            "year"
            if settings.APPKEEPER_RECERTIFY_DAYS == 365
            else days_in_words(settings.APPKEEPER_RECERTIFY_DAYS)
        ),
        "review_hours": settings.APPKEEPER_REVIEW_HOURS,
        "heartbeat_hours": settings.APPKEEPER_HEARTBEAT_HOURS,
        "reminders": day_list(reminders),
        # Renewal opens with the first reminder (lifecycle.selectors.renewal_window).
        "renewal_window_days": max(reminders, default=0),
        "grace": days_in_words(settings.APPKEEPER_GRACE_DAYS),
        "sunset_response": days_in_words(settings.APPKEEPER_SUNSET_RESPONSE_DAYS),
    }
