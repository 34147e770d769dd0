"""The django-q2 entry point for polling a source (run by the schedules in `feed.schedules`).

Tasks take names, not model instances or config objects: a queued task may run
after the configuration changed, so it looks the source up again when it runs.
"""

from __future__ import annotations

import logging

from feed.polling import UnknownSource, configured_source, poll_source
from notifications.tasks import request_digest

logger = logging.getLogger(__name__)


def poll_source_task(source_name: str) -> dict:
    """Worker entry point: poll one source by name and return its summary."""
    try:
        source = configured_source(source_name)
    except UnknownSource as exc:
        # A schedule can outlive its [[sources]] entry until setup_schedules runs again.
        logger.warning("Not polling: %s. Run `manage.py setup_schedules` to tidy up.", exc)
        return {"error": str(exc)}
    summary = poll_source(source)
    # New releases and failing sources are told in one digest per poll, sent apart from it.
    request_digest()
    return summary.as_dict()
