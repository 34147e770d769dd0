from django.apps import AppConfig


class TsundokuConfig(AppConfig):
    name = "tsundoku"
    verbose_name = "tsundoku"

    def ready(self) -> None:
        from tsundoku import checks, schema  # noqa: F401  (register checks and schema extensions)
