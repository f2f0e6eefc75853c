"""Single sign-on's two legs and the platform team's group mapping page."""

from django.urls import path

from identity import oidc_views, views

urlpatterns = [
    path(
        "oidc/authenticate/",
        oidc_views.SignInWithProviderView.as_view(),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        oidc_views.ProviderCallbackView.as_view(),
        name="oidc_authentication_callback",
    ),
    path("settings/sign-in/", views.group_mappings, name="group-mappings"),
]
