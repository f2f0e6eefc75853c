from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The registry: teams, regions, apps, contracts, reviews, policies and the audit trail."""

    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog import gauges
        from catalog.api import schema  # noqa: F401 (registers the OpenAPI extensions)

        gauges.register()

        # The go-live checklist and API contract panels, the Reviews/Policies nav.
        from catalog.views import contracts, imports, reviews, teams, tokens, transfer

        reviews.register()
        contracts.register()
        imports.register()
        tokens.register()
        transfer.register()
        teams.register()
