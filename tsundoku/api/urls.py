"""Server-wide API routes, mounted at /api/v1/ by tsundoku/urls.py."""

from __future__ import annotations

from django.urls import path

from tsundoku.api import views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="api-health"),
    path("info", views.InfoView.as_view(), name="api-info"),
]
