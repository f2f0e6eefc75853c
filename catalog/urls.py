from django.contrib.auth import views as auth_views
from django.urls import path

from catalog import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("apps/", views.app_list, name="app-list"),
    path("apps/<slug:slug>/", views.app_detail, name="app-detail"),
]
