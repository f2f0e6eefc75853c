"""Pages of the review board, the policy rules and the go-live gate (catalog.views_review)."""

from django.urls import path

from catalog import views_review

urlpatterns = [
    path("reviews/", views_review.review_queue, name="review-queue"),
    path("reviews/<int:pk>/", views_review.review_detail, name="review-detail"),
    path("policies/", views_review.policy_list, name="policy-list"),
    path("apps/<slug:slug>/submit/", views_review.app_submit, name="app-submit"),
]
