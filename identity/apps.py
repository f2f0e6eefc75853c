from django.apps import AppConfig


class IdentityConfig(AppConfig):
    """Who people are, as the company's directory says: single sign-on through OpenID
    Connect, provisioning through SCIM 2.0, the mapping of directory groups to Appkeeper's
    roles and teams, and what happens to a person's apps when they leave."""

    name = "identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog import permissions
        from core.panels import NavEntry, register_nav

        # Hand a leaver's apps over whichever way they were deactivated (signal receivers
        # connect on import).
        from identity import signals  # noqa: F401
        from identity.scim import token_page

        token_page.register()

        register_nav(
            NavEntry(
                label="Sign-in",
                url_name="group-mappings",
                visible=permissions.can_manage_group_mappings,
                order=91,
            )
        )
