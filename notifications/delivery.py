"""Deliver events through Apprise: one digest per target per run, retried with backoff.

Each configured URL is a target with its own watermark (`last_event_id`).
A run sends every event past the watermark as one message; on success the
watermark moves, on failure the target waits `retry_base_seconds`, doubled
per failure up to `retry_max_seconds`, and keeps its events for the next
try. One failing target never holds up another, and nothing here runs
inside a poll (the poll queues the digest, see `notifications.tasks`).

Apprise reports failure as `False` and explains in its log, so the log is
captured (`apprise.LogCapture`) for the page — redacted, since Apprise may
echo parts of the URL, which is a secret.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

import apprise
from django.conf import settings
from django.utils import timezone

from notifications.models import NotificationEvent, NotificationTarget
from tsundoku.logging import redact

logger = logging.getLogger(__name__)

# A digest lists this many events; the rest are counted ("… and 12 more").
DIGEST_LINES = 30


@dataclass(frozen=True)
class Delivery:
    """What one target did in one run."""

    label: str
    sent: int = 0
    ok: bool = True
    skipped: bool = False
    error: str = ""


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def private_label(url: str) -> str:
    """The URL as Apprise prints it with privacy on; a generic label if Apprise cannot read it."""
    instance = apprise.Apprise.instantiate(url)
    if not instance:
        return "unreadable Apprise URL"
    return instance.url(privacy=True)


def configured_urls() -> list[str]:
    return list(settings.TSUNDOKU.notifications["urls"])


def targets() -> list[tuple[str, NotificationTarget]]:
    """(URL, state) for every configured URL; a new URL starts after the newest event."""
    newest = NotificationEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    pairs = []
    for url in configured_urls():
        target, _ = NotificationTarget.objects.get_or_create(
            url_hash=url_hash(url),
            defaults={"label": private_label(url), "last_event_id": newest},
        )
        pairs.append((url, target))
    return pairs


def digest_text(events: list[NotificationEvent]) -> tuple[str, str]:
    """Title and body of one digest."""
    count = len(events)
    title = f"tsundoku: {count} new event{'s' if count != 1 else ''}"
    lines = []
    for event in events[:DIGEST_LINES]:
        line = f"• {event.get_kind_display()}: {event.title}"
        if event.detail:
            line += f" — {event.detail}"
        lines.append(line)
    if count > DIGEST_LINES:
        lines.append(f"… and {count - DIGEST_LINES} more")
    return title, "\n".join(lines)


def send(url: str, title: str, body: str) -> str:
    """Send one message to one URL; "" on success, else what Apprise said (redacted)."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "Apprise cannot read this URL (check its scheme and format)."
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = notifier.notify(title=title, body=body)
        said = captured.getvalue().strip()
    if ok:
        return ""
    return redact(said.splitlines()[-1] if said else "the target did not accept the message")


def _backoff(failures: int) -> timedelta:
    config = settings.TSUNDOKU.notifications
    seconds = min(config["retry_base_seconds"] * 2 ** (failures - 1), config["retry_max_seconds"])
    return timedelta(seconds=seconds)


def deliver_pending() -> list[Delivery]:
    """Send each due target one digest of the events it has not had yet."""
    now = timezone.now()
    results = []
    for url, target in targets():
        if target.next_attempt_at and target.next_attempt_at > now:
            results.append(Delivery(label=target.label, skipped=True, ok=False))
            continue
        events = list(NotificationEvent.objects.filter(id__gt=target.last_event_id).order_by("id"))
        if not events:
            results.append(Delivery(label=target.label))
            continue
        title, body = digest_text(events)
        error = send(url, title, body)
        target.last_attempt_at = now
        if error:
            target.failures += 1
            target.next_attempt_at = now + _backoff(target.failures)
            target.last_error = error
            logger.warning("Notification to %s failed: %s", target.label, error)
        else:
            target.failures = 0
            target.next_attempt_at = None
            target.last_error = ""
            target.last_success_at = now
            target.last_event_id = events[-1].id
        target.save()
        results.append(
            Delivery(
                label=target.label, sent=0 if error else len(events), ok=not error, error=error
            )
        )
    return results


def send_test() -> list[Delivery]:
    """A test message to every target now (no events, no watermark, no backoff)."""
    results = []
    for url, target in targets():
        error = send(url, "tsundoku: test notification", "If you can read this, it works.")
        results.append(
            Delivery(label=target.label, sent=0 if error else 1, ok=not error, error=error)
        )
    return results
