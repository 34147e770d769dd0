"""Cached covers, mounted at /covers/."""

from __future__ import annotations

from django.urls import path

from covers import views

app_name = "covers"
urlpatterns = [
    path("<str:key>", views.image, name="image"),
]
