"""The Notifications page and its Send test action."""

from __future__ import annotations

from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.index, name="index"),
    path("test", views.test, name="test"),
]
