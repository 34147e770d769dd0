"""What was sent to the torrent client, and what came of it (admin-only data)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from feed.models import Release


class SendOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    DUPLICATE = "duplicate", "Already in the client"
    FAILED = "failed", "Failed"


class SendLog(models.Model):
    """One "Send" of a release to the torrent client.

    The release title and info hash are copied so the log still reads right
    after a release is deleted. `message` is redacted before it is stored.
    """

    release = models.ForeignKey(Release, null=True, on_delete=models.SET_NULL, related_name="sends")
    release_title = models.TextField()
    info_hash = models.CharField(max_length=40, blank=True, default="")
    client = models.CharField(max_length=16)
    outcome = models.CharField(max_length=12, choices=SendOutcome.choices)
    message = models.TextField(blank=True, default="")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["-sent_at"], name="send_log_recent_idx"),
            # The "sent" mark on release rows: does this release have a good send?
            models.Index(fields=["release", "outcome"], name="send_log_release_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sent_at:%Y-%m-%d %H:%M} {self.client} {self.outcome}"
