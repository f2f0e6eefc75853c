from django.urls import path

from catalog import views_contracts

urlpatterns = [
    path(
        "apps/<slug:slug>/contracts/upload/",
        views_contracts.contract_upload_view,
        name="app-contract-upload",
    ),
    path(
        "apps/<slug:slug>/contracts/changelog/",
        views_contracts.contract_changelog_view,
        name="app-contract-changelog",
    ),
    path(
        "apps/<slug:slug>/contracts/<str:version>/",
        views_contracts.contract_docs,
        name="app-contract-docs",
    ),
]
