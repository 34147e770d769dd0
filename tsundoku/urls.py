"""URL root: pages, the JSON API under /api/v1, the schema and its docs, the admin."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularSwaggerSplitView

from tsundoku.api.errors import json_error
from tsundoku.schema import TierSchemaView
from tsundoku.security import ThrottledLoginView


@csrf_exempt  # any method: a POST to a mistyped route is a JSON 404, not Django's CSRF page
def no_such_api_route(request: HttpRequest) -> JsonResponse:
    """Every /api/v1/ path no route matched, whatever the method."""
    return json_error("not_found", "No such API route.", 404)


api_v1 = [
    path("", include("tsundoku.api.urls")),
    path("", include("feed.api.urls")),
    path("", include("codex_sync.api.urls")),
    path("", include("exports.api.urls")),
    # Readers get the schema without anything about Codex (tsundoku.schema.reader_schema).
    path("schema", TierSchemaView.as_view(), name="api-schema"),
    # Swagger UI from the sidecar package: every asset is served locally. (No
    # Redoc: drf-spectacular's Redoc page loads a font from a CDN.)
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline JS.
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^.*$", no_such_api_route),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(api_v1)),
    path("codex/", include("codex_sync.urls")),
    path("exports/", include("exports.urls")),
    path("covers/", include("covers.urls")),
    path("metadata/", include("metadata.urls")),
    path("torrents/", include("torrents.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("follows.urls")),
    path("", include("feed.urls")),
]
