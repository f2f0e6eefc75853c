from django.urls import path

from scorecards import views

urlpatterns = [
    path("scorecards/", views.scorecard_index, name="scorecards"),
    path("scorecards/cleanup/", views.cleanup_page, name="scorecards-cleanup"),
    path("scorecards/compute/", views.scorecard_compute, name="scorecards-compute"),
    path("chargeback/", views.chargeback_page, name="chargeback"),
]
