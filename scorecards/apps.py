from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    """Quarterly scorecards, the cleanup report and chargeback."""

    name = "scorecards"
    default_auto_field = "django.db.models.BigAutoField"
