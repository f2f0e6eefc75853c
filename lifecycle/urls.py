from django.urls import path

from lifecycle import views

app_name = "lifecycle"

urlpatterns = [
    path("apps/<slug:slug>/renew/", views.app_renew, name="app-renew"),
    path("apps/<slug:slug>/rotate-secret/", views.app_rotate_secret, name="app-rotate-secret"),
    path(
        "apps/<slug:slug>/telemetry-status/",
        views.app_telemetry_status,
        name="app-telemetry-status",
    ),
    path(
        "apps/<slug:slug>/observed-calls/<slug:callee>/declare/",
        views.observed_call_declare,
        name="observed-call-declare",
    ),
    path("sunset-cases/", views.sunset_case_list, name="sunset-cases"),
    path("sunset-cases/<int:pk>/respond/", views.sunset_respond, name="sunset-respond"),
    path("sunset-cases/<int:pk>/decide/", views.sunset_decide, name="sunset-decide"),
    path("me/notifications/", views.notifications, name="notifications"),
]
