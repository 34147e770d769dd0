from __future__ import annotations

app_name = "codex"
urlpatterns: list = []
