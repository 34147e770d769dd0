from django.apps import AppConfig


class TsundokuConfig(AppConfig):
    name = "tsundoku"
    verbose_name = "tsundoku"

    def ready(self) -> None:
        from tsundoku import checks  # noqa: F401  (registers the system checks)
