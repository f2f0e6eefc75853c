from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Platform plumbing every app uses: request context and logs, metrics and the gauge
    registry, Celery job records, the sign-in limiter, page panels and navigation, charts,
    the htmx page-or-fragment rule, webhook secrets, health and error pages. Core imports
    none of the product apps; they plug into it."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Record every Celery task run (signal receivers connect on import).
        from core import jobs  # noqa: F401
