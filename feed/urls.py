"""Feed pages: the catalog, series pages, the lookup redirect, the review queue, sources."""

from __future__ import annotations

from django.urls import path

from feed import views

app_name = "feed"
urlpatterns = [
    path("", views.index, name="index"),
    path("search", views.search, name="search"),
    path("series/<int:pk>/", views.detail, name="detail"),
    path("series/lookup", views.lookup, name="lookup"),
    path("series/add", views.add_series, name="add"),
    path("review/", views.review, name="review"),
    path("review/retry", views.review_retry, name="review-retry"),
    path("review/<int:pk>/link", views.review_link, name="review-link"),
    path("review/<int:pk>/reject", views.review_reject, name="review-reject"),
    path("review/<int:pk>/unlink", views.review_unlink, name="review-unlink"),
    path("series/<int:pk>/search", views.series_search, name="series-search"),
    path("sources/", views.sources, name="sources"),
    path("sources/status.json", views.sources_status, name="sources-status"),
    path("sources/<str:name>/run", views.source_run, name="source-run"),
]
