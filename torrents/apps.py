from django.apps import AppConfig


class TorrentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "torrents"
    verbose_name = "Torrent client"
