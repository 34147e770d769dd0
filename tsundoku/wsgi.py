"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application

from tsundoku.garbage_collection import freeze_start_up_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tsundoku.settings")
application = get_wsgi_application()

freeze_start_up_objects()
