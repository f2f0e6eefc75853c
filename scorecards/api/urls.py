from django.urls import path
from rest_framework.routers import SimpleRouter

from scorecards.api import views

router = SimpleRouter(trailing_slash=True)
router.register("scorecards", views.ScorecardViewSet, basename="scorecard")

urlpatterns = [
    path("scorecards/teams/", views.ScorecardTeamsView.as_view(), name="scorecard-teams"),
    path("scorecards/rubric/", views.ScorecardRubricView.as_view(), name="scorecard-rubric"),
    path("scorecards/cleanup/", views.CleanupView.as_view(), name="scorecard-cleanup"),
    path("chargeback/", views.ChargebackView.as_view(), name="chargeback"),
    *router.urls,
]
