"""Routes of the preferences page and API (included from ``config/urls.py``)."""

from __future__ import annotations

from django.urls import path

from messaging import preference_views

page_patterns = [
    path(
        "me/notifications/settings/",
        preference_views.notification_settings,
        name="notification-settings",
    ),
]

api_patterns = [
    path(
        "me/notification-preferences/",
        preference_views.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
]
