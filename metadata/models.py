"""What the metadata app keeps in the database: dump refresh history and remembered misses."""

from __future__ import annotations

from django.db import models


class RefreshOutcome(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class DumpRefresh(models.Model):
    """One attempt to download and install a provider's offline dump (history + live progress)."""

    provider = models.CharField(max_length=40, default="mangabaka")
    source = models.CharField(max_length=1000, help_text="URL or local file the dump came from")
    outcome = models.CharField(
        max_length=12, choices=RefreshOutcome.choices, default=RefreshOutcome.QUEUED
    )
    # Where a running refresh is: downloading, extracting, validating, indexing, installing.
    phase = models.CharField(max_length=20, blank=True, default="")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    bytes_total = models.BigIntegerField(null=True, blank=True)
    bytes_downloaded = models.BigIntegerField(default=0)
    records = models.PositiveIntegerField(null=True, blank=True, help_text="active series")
    rows = models.PositiveIntegerField(null=True, blank=True, help_text="all rows in the dump")
    version = models.CharField(max_length=64, blank=True, default="", help_text="sha1 of the file")
    dump_size = models.BigIntegerField(null=True, blank=True, help_text="installed file, bytes")
    warning = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = [models.Index(fields=["provider", "outcome"])]

    def __str__(self) -> str:
        return f"{self.provider} refresh {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"

    @property
    def in_progress(self) -> bool:
        return self.outcome in {RefreshOutcome.QUEUED, RefreshOutcome.RUNNING}

    @property
    def percent(self) -> int | None:
        if not self.bytes_total:
            return None
        return min(100, int(100 * self.bytes_downloaded / self.bytes_total))


class NegativeLookup(models.Model):
    """A lookup the provider answered "unknown": not asked again until `expires_at`.

    Only `get` and foreign-id lookups are remembered; searches never are.
    """

    provider = models.CharField(max_length=40)
    key = models.CharField(max_length=300)  # "id:1677" or "anilist:105778"
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "key"], name="negative_lookup_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.key} (until {self.expires_at:%Y-%m-%d})"
