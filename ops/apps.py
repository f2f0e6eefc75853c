from django.apps import AppConfig


class OpsConfig(AppConfig):
    """The operations page: Appkeeper's own health and the whole fleet at a glance.

    It reads every app's tables (catalog, core's job runs), so it sits above them all.
    """

    name = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog import permissions
        from core.panels import NavEntry, register_nav

        register_nav(
            NavEntry(label="Operations", url_name="ops", visible=permissions.can_see_ops, order=90)
        )
