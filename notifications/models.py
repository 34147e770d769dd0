"""Notification events, each recorded once, and each target's delivery state.

An event's `key` is unique, so the same thing observed by two polls (or
after a restart) is one event. Each target keeps a watermark — the last
event id it has received — so one digest carries every event past it, and
a failing target keeps its events until it answers again.

Targets are stored by a hash of their Apprise URL, never the URL itself:
the URL is a secret that lives in the configuration only.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class EventKind(models.TextChoices):
    RELEASE = "release", "New release"
    CODEX_AUTH = "codex_auth", "Codex sweep refused the API key"
    SOURCE_FAILING = "source_failing", "Release source failing"
    METADATA_REFRESH = "metadata_refresh", "Metadata refresh failed"


class NotificationEvent(models.Model):
    """Something worth telling the operator about, recorded once."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    title = models.CharField(max_length=500)
    detail = models.TextField(blank=True, default="")
    series_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"


class NotificationTarget(models.Model):
    """Delivery state of one configured Apprise URL (known by its hash only)."""

    url_hash = models.CharField(max_length=64, unique=True)
    # The URL as Apprise prints it with privacy on (tokens and passwords masked).
    label = models.CharField(max_length=500)
    last_event_id = models.BigIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return self.label


class SourceFailureStreak(models.Model):
    """How many polls of a source have failed in a row, as the digest last saw it."""

    name = models.CharField(max_length=100, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    # The poll that made the streak reach the threshold: one event per streak.
    streak_started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.failures} failed"


class NotificationCursor(models.Model):
    """The highest release id the digest has looked at (one row, made by the first look)."""

    SINGLETON_ID = 1

    last_release_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"releases up to {self.last_release_id}"
