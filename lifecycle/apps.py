from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """Expiry, reminders, renewals, telemetry ingestion and sunsetting."""

    name = "lifecycle"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Panels on the app page and the dashboard, and the nav entries (catalog renders
        # them without importing lifecycle).
        from lifecycle import gauges, panels, policy

        panels.register()
        gauges.register()
        # The "declares what it calls" policy warning, fed by the observed calls.
        policy.register()
