"""django-q2 entry points for polling and re-resolution, and the function that queues a poll.

Tasks take names, not model instances or config objects: a queued task may run
after the configuration changed, so it looks the source up again when it runs.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from django_q.tasks import async_task

from feed.polling import UnknownSource, configured_source, poll_source
from feed.resolution import retry_releases

logger = logging.getLogger(__name__)


def enqueue_poll(source_name: str) -> str:
    """Queue a poll of one configured source; return the task id.

    Raises `UnknownSource` (listing the configured names) for any other name.
    """
    configured_source(source_name)
    return async_task(
        "feed.tasks.poll_source_task",
        source_name,
        task_name=f"poll-source:{source_name}",
        group="poll-source",
    )


def poll_source_task(source_name: str) -> dict:
    """Worker entry point: poll one source by name and return its summary."""
    try:
        source = configured_source(source_name)
    except UnknownSource as exc:
        # A schedule can outlive its [[sources]] entry until setup_schedules runs again.
        logger.warning("Not polling: %s. Run `manage.py setup_schedules` to tidy up.", exc)
        return {"error": str(exc)}
    return poll_source(source).as_dict()


def retry_pending_task() -> dict:
    """Worker entry point: re-run resolution on every unresolved and review-pending release."""
    return asdict(retry_releases())
