from django.urls import path
from rest_framework.routers import DefaultRouter

from catalog import converters  # noqa: F401  (registers the <version:...> converter)
from catalog.api import (
    backstage_export_views,
    backstage_views,
    contract_views,
    source_views,
    tokens,
    transfers,
    views,
)

router = DefaultRouter(trailing_slash=True)
router.register("apps", views.MicroAppViewSet, basename="app")
router.register("teams", views.TeamViewSet, basename="team")
router.register("regions", views.RegionViewSet, basename="region")
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("tokens", tokens.ApiTokenViewSet, basename="token")
router.register(
    "backstage/sources", source_views.BackstageSourceViewSet, basename="backstage-source"
)

# Explicit contract and Backstage routes come first: `apps/import/` must not be taken for
# an app called "import".
contract_urls = [
    path(
        "backstage/entities",
        backstage_export_views.BackstageEntitiesView.as_view(),
        name="backstage-entities",
    ),
    path("apps/import/", backstage_views.BackstageImportView.as_view(), name="apps-import"),
    path(
        "backstage/imports/",
        backstage_views.ImportJobListView.as_view(),
        name="backstage-import-list",
    ),
    path(
        "backstage/imports/<int:pk>/",
        backstage_views.ImportJobDetailView.as_view(),
        name="backstage-import-detail",
    ),
    path("contracts/check/", contract_views.ContractCheckView.as_view(), name="contracts-check"),
    path(
        "apps/<slug:slug>/catalog-info.yaml",
        contract_views.BackstageExportView.as_view(),
        name="app-catalog-info",
    ),
    path(
        "apps/<slug:slug>/contracts/",
        contract_views.AppContractsView.as_view(),
        name="app-contracts",
    ),
    path(
        "apps/<slug:slug>/contracts/changelog/",
        contract_views.AppContractChangelogView.as_view(),
        name="app-contracts-changelog",
    ),
    path(
        "apps/<slug:slug>/contracts/<version:version>/",
        contract_views.AppContractDetailView.as_view(),
        name="app-contract-detail",
    ),
    path(
        "apps/<slug:slug>/contracts/<version:version>/acknowledge/",
        contract_views.AppContractAcknowledgeView.as_view(),
        name="app-contract-acknowledge",
    ),
    path(
        "apps/<slug:slug>/contracts/<version:version>/withdraw/",
        contract_views.AppContractWithdrawView.as_view(),
        name="app-contract-withdraw",
    ),
    path(
        "apps/<slug:slug>/contracts/<version:version>/reschedule/",
        contract_views.AppContractRescheduleView.as_view(),
        name="app-contract-reschedule",
    ),
    path(
        "apps/<slug:slug>/contracts/<version:version>/document/",
        contract_views.AppContractDocumentView.as_view(),
        name="app-contract-document",
    ),
]

# Before the router too: `apps/transfer/` is no app's slug ("transfer" is reserved).
transfer_urls = [
    path("apps/transfer/", transfers.TransferView.as_view(), name="apps-transfer"),
]

urlpatterns = [*contract_urls, *transfer_urls, *router.urls]
