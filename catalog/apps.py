from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The registry: teams, regions, apps, contracts, reviews, policies and the audit trail."""

    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Operations (issue 8): record task runs, register the ops nav entry.
        from catalog import jobs, views_ops  # noqa: F401
        from catalog.api import schema  # OpenAPI filter extension, strict booleans

        schema.use_strict_booleans()
        schema.use_strict_strings()

        views_ops.register()

        # Review board (issue 5): the go-live checklist panel and the Reviews/Policies nav.
        from catalog import views_review

        views_review.register()

        # Contract registry (issue 4): the API contract panel.
        from catalog import views_contracts

        views_contracts.register()
