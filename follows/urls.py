"""Follow buttons and the Wanted page."""

from __future__ import annotations

from django.urls import path

from follows import views
from follows.feeds import WantedFeed

app_name = "follows"
urlpatterns = [
    path("wanted/", views.wanted, name="wanted"),
    path("series/<int:pk>/follow", views.toggle, name="toggle"),
    path("wanted/feed/regenerate", views.regenerate_feed, name="feed-regenerate"),
    path("feeds/<str:token>/wanted.atom", WantedFeed(), name="feed"),
]
