"""Follow buttons and the Wanted page."""

from __future__ import annotations

from django.urls import path

from follows import views

app_name = "follows"
urlpatterns = [
    path("wanted/", views.wanted, name="wanted"),
    path("series/<int:pk>/follow", views.toggle, name="toggle"),
]
