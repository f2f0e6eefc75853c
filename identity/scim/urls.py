"""``/scim/v2/`` (included from config/urls.py). Resource ids are read as strings so an id
that is not a number is a SCIM 404, and anything unknown below the base is one too."""

from django.urls import path, re_path

from identity.scim import views

app_name = "scim"

urlpatterns = [
    path(
        "ServiceProviderConfig",
        views.ServiceProviderConfigView.as_view(),
        name="service-provider-config",
    ),
    path("ResourceTypes", views.ResourceTypesView.as_view(), name="resource-types"),
    path("ResourceTypes/<str:name>", views.ResourceTypesView.as_view(), name="resource-type"),
    path("Schemas", views.SchemasView.as_view(), name="schemas"),
    path("Schemas/<str:uri>", views.SchemasView.as_view(), name="schema"),
    path("Users", views.UsersView.as_view(), name="users"),
    path("Users/<str:pk>", views.UserView.as_view(), name="user"),
    path("Groups", views.GroupsView.as_view(), name="groups"),
    path("Groups/<str:pk>", views.GroupView.as_view(), name="group"),
    path("Bulk", views.NotImplementedView.as_view(), name="bulk"),
    path("Me", views.NotImplementedView.as_view(), name="me"),
    re_path(r"^.*$", views.UnknownView.as_view()),
]
