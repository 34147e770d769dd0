from __future__ import annotations

from django.apps import AppConfig


class CoversConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "covers"
    label = "covers"
    verbose_name = "Cover cache"
