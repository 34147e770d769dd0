from django.apps import AppConfig


class CodexSyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "codex_sync"
    verbose_name = "Codex integration"
