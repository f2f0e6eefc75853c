from rest_framework.routers import DefaultRouter

from catalog.api import views

router = DefaultRouter(trailing_slash=True)
router.register("apps", views.MicroAppViewSet, basename="app")
router.register("teams", views.TeamViewSet, basename="team")
router.register("regions", views.RegionViewSet, basename="region")

urlpatterns = router.urls
