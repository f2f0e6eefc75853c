"""The platform team's page for provisioning tokens, outside ``/scim/v2/``."""

from django.urls import path

from identity.scim import token_page

urlpatterns = [
    path("settings/provisioning/", token_page.provisioning_tokens, name="provisioning-tokens"),
    path(
        "settings/provisioning/<int:pk>/revoke/",
        token_page.provisioning_token_revoke,
        name="provisioning-token-revoke",
    ),
]
