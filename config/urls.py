"""Top-level routes: HTML pages per app, the versioned API, schema, docs and health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from messaging import preference_urls

api_v1 = [
    path("", include("catalog.api.urls")),
    path("", include("lifecycle.api.urls")),
    path("", include("scorecards.api.urls")),
    path("", include(preference_urls.api_patterns)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a second request (?script), so the
    # page runs under script-src 'self' without inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="core/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # SCIM 2.0 provisioning: its own standard, so outside /api/ and its OpenAPI schema.
    path("scim/v2/", include("identity.scim.urls")),
    # Callbacks of chat services, authenticated by their signatures rather than a session.
    path("integrations/", include("messaging.urls")),
    path("", include("identity.scim.page_urls")),
    path("", include("core.urls")),
    path("", include("lifecycle.urls")),
    path("", include(preference_urls.page_patterns)),
    path("", include("scorecards.urls")),
    path("", include("ops.urls")),
    path("", include("identity.urls")),
    path("", include("catalog.urls")),
]

handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
# Rendered without the request context: see core.views.server_error.
handler500 = "core.views.server_error"
