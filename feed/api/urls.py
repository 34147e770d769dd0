"""Routes of the discovery API, mounted at /api/v1/ by tsundoku/urls.py."""

from __future__ import annotations

from django.urls import path

from feed.api import views

urlpatterns = [
    path("series", views.SeriesListView.as_view(), name="api-series-list"),
    path("series/feed", views.SeriesFeedView.as_view(), name="api-series-feed"),
    path("series/lookup", views.SeriesLookupView.as_view(), name="api-series-lookup"),
    path("series/<int:series_id>", views.SeriesDetailView.as_view(), name="api-series-detail"),
    path("releases", views.ReleaseListView.as_view(), name="api-releases"),
    path("releases/retry", views.ReleaseRetryView.as_view(), name="api-releases-retry"),
    path(
        "releases/<int:release_id>/link",
        views.ReleaseLinkView.as_view(),
        name="api-release-link",
    ),
    path(
        "releases/<int:release_id>/reject",
        views.ReleaseRejectView.as_view(),
        name="api-release-reject",
    ),
    path(
        "releases/<int:release_id>/unlink",
        views.ReleaseUnlinkView.as_view(),
        name="api-release-unlink",
    ),
    path("stats", views.StatsView.as_view(), name="api-stats"),
]
