from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Notifications where people work: Slack (Block Kit messages with buttons, and the
    interactions they send back), Microsoft Teams (Adaptive Cards through a team's
    Workflows webhook), each person's choice of channel and cadence, and the daily and
    weekly digests. Every delivery goes through the catalog's outbox."""

    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from messaging import health

        health.register()
