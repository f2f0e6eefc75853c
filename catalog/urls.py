"""Browser pages of the registry."""

from django.urls import path

from catalog import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("apps/", views.app_list, name="app-list"),
    path("apps/new/", views.app_create, name="app-create"),
    path("apps/validate/", views.app_validate_field, name="app-validate"),
    path("apps/picker/", views.app_picker, name="app-picker"),
    path("me/apps/", views.my_apps, name="my-apps"),
    path("apps/<slug:slug>/", views.app_detail, name="app-detail"),
    path("apps/<slug:slug>/edit/", views.app_edit, name="app-edit"),
    path("apps/<slug:slug>/edit/validate/", views.app_validate_field, name="app-edit-validate"),
]
