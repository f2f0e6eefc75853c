from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """Expiry, reminders, renewals, telemetry ingestion and sunsetting."""

    name = "lifecycle"
    default_auto_field = "django.db.models.BigAutoField"
