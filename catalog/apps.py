from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The registry: teams, regions, apps, contracts, reviews, policies and the audit trail."""

    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"
