from __future__ import annotations

app_name = "feed"
urlpatterns: list = []
