"""The Exports page and its form actions, mounted at /exports/."""

from __future__ import annotations

from django.urls import path

from exports import views

app_name = "exports"
urlpatterns = [
    path("", views.index, name="index"),
    path("table", views.table, name="table"),
    path("new", views.create, name="create"),
    path("<int:pk>/cancel", views.cancel, name="cancel"),
    path("<int:pk>/delete", views.delete, name="delete"),
]
