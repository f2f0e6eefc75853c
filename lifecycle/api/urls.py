from django.urls import path
from rest_framework.routers import SimpleRouter

from lifecycle.api import views

# SimpleRouter (no API root): catalog's router owns /api/v1/. The app actions share the
# registry's ``apps/{slug}/`` prefix; this router only adds their sub-paths.
router = SimpleRouter(trailing_slash=True)
router.register("apps", views.AppLifecycleViewSet, basename="app-lifecycle")
router.register("sunset-cases", views.SunsetCaseViewSet, basename="sunset-case")

urlpatterns = [
    path("telemetry/", views.TelemetryView.as_view(), name="telemetry"),
    *router.urls,
]
