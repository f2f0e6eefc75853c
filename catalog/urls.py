"""Browser pages of the registry: apps, reviews and policies, contracts."""

from django.urls import path

from catalog import converters  # noqa: F401  (registers the <version:...> converter)
from catalog.views import (
    app,
    auth,
    browse,
    contracts,
    dashboard,
    dependencies,
    imports,
    retire,
    reviews,
    sources,
    teams,
    tokens,
    transfer,
)
from catalog.views.impact import app_impact

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.SignInView.as_view(), name="login"),
    path("logout/", auth.SignOutView.as_view(), name="logout"),
    path("apps/", browse.app_list, name="app-list"),
    path("apps/new/", app.app_create, name="app-create"),
    path("apps/validate/", app.app_validate_field, name="app-validate"),
    path("apps/picker/", browse.app_picker, name="app-picker"),
    # Before apps/<slug>/: "transfer" is a reserved slug, never an app's.
    path("apps/transfer/", transfer.app_transfer, name="app-transfer"),
    path("teams/", teams.team_list, name="team-list"),
    path("teams/<slug:slug>/", teams.team_detail, name="team-detail"),
    path("teams/<slug:slug>/lead/", teams.team_set_lead, name="team-lead"),
    path("teams/<slug:slug>/chat/", teams.team_set_chat, name="team-chat"),
    path("me/apps/", browse.my_apps, name="my-apps"),
    path("me/tokens/", tokens.api_tokens, name="api-tokens"),
    path("me/tokens/<int:pk>/revoke/", tokens.api_token_revoke, name="api-token-revoke"),
    path("reviews/", reviews.review_queue, name="review-queue"),
    path("reviews/<int:pk>/", reviews.review_detail, name="review-detail"),
    path("policies/", reviews.policy_list, name="policy-list"),
    path("imports/", imports.import_list, name="backstage-imports"),
    path("settings/backstage-sources/", sources.backstage_sources, name="backstage-sources"),
    path("imports/<int:pk>/", imports.import_detail, name="backstage-import-detail"),
    path("apps/<slug:slug>/", app.app_detail, name="app-detail"),
    path("apps/<slug:slug>/edit/", app.app_edit, name="app-edit"),
    path("apps/<slug:slug>/edit/validate/", app.app_validate_field, name="app-edit-validate"),
    path("apps/<slug:slug>/submit/", reviews.app_submit, name="app-submit"),
    path("apps/<slug:slug>/impact/", app_impact, name="app-impact"),
    path(
        "apps/<slug:slug>/dependencies/",
        dependencies.app_dependencies,
        name="app-dependencies",
    ),
    path("apps/<slug:slug>/retire/", retire.app_retire, name="app-retire"),
    path(
        "apps/<slug:slug>/contracts/upload/",
        contracts.contract_upload_view,
        name="app-contract-upload",
    ),
    path(
        "apps/<slug:slug>/contracts/changelog/",
        contracts.contract_changelog_view,
        name="app-contract-changelog",
    ),
    path(
        "apps/<slug:slug>/contracts/<version:version>/",
        contracts.contract_docs,
        name="app-contract-docs",
    ),
    path(
        "apps/<slug:slug>/contracts/<version:version>/acknowledge/",
        contracts.contract_acknowledge_view,
        name="app-contract-acknowledge",
    ),
    path(
        "apps/<slug:slug>/contracts/<version:version>/withdraw/",
        contracts.contract_withdraw_view,
        name="app-contract-withdraw",
    ),
    path(
        "apps/<slug:slug>/contracts/<version:version>/reschedule/",
        contracts.contract_reschedule_view,
        name="app-contract-reschedule",
    ),
]
