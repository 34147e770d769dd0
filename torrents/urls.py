"""The torrent client page and the Send action."""

from __future__ import annotations

from django.urls import path

from torrents import views

app_name = "torrents"
urlpatterns = [
    path("", views.index, name="index"),
    path("test", views.test_connection, name="test"),
    path("send/<int:pk>", views.send, name="send"),
]
