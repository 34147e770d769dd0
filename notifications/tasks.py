"""django-q2 entry points for the digest, and the public function that queues one.

A poll queues a digest (`request_digest`) rather than sending in line, so a
slow or dead notification target never holds up a poll. The digest also runs
on `notifications.digest_cron`, which is what retries a failing target.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_q.tasks import async_task

from notifications.delivery import deliver_pending
from notifications.events import collect_events

logger = logging.getLogger(__name__)


def enabled() -> bool:
    return bool(settings.TSUNDOKU.notifications["urls"])


def request_digest() -> None:
    """Queue a digest run (after a poll); never raises into the caller."""
    if not enabled():
        return
    try:
        async_task("notifications.tasks.digest_task", task_name="notifications-digest")
    except Exception:
        logger.exception("Could not queue the notification digest")


def digest_task() -> dict:
    """Record new events, then send each due target its digest."""
    collected = collect_events()
    deliveries = deliver_pending() if enabled() else []
    return {
        "events": collected.total,
        "delivered": sum(delivery.sent for delivery in deliveries),
        "failed": sum(1 for delivery in deliveries if not delivery.ok and not delivery.skipped),
    }
