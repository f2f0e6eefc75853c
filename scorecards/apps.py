from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    """Quarterly scorecards, the cleanup report and chargeback."""

    name = "scorecards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # catalog renders what later apps register, so it never imports them.
        from catalog import permissions
        from core.panels import NavEntry, Panel, register_app_panel, register_nav
        from scorecards.views import app_scorecard_panel

        register_nav(NavEntry(label="Scorecards", url_name="scorecards", order=50))
        register_nav(
            NavEntry(
                label="Chargeback",
                url_name="chargeback",
                visible=permissions.can_see_chargeback,
                order=60,
            )
        )
        register_app_panel(
            Panel(
                key="scorecard",
                title="Scorecard",
                template="scorecards/panels/app_scorecard.html",
                context=app_scorecard_panel,
                order=60,
            )
        )
