"""Endpoints chat services call back (mounted at ``/integrations/``)."""

from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("slack/interactions/", views.slack_interactions, name="slack-interactions"),
]
