"""Metadata admin pages, mounted at /metadata/ by tsundoku/urls.py (namespace "metadata")."""

from __future__ import annotations

from django.urls import path

from metadata import views

app_name = "metadata"
urlpatterns = [
    path("", views.index, name="index"),
    path("status.json", views.status, name="status"),
    path("refresh", views.refresh_now, name="refresh"),
]
