"""Export jobs: who asked for which file, and how far the worker got."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ExportType(models.TextChoices):
    SERIES = "series", "Series"
    RELEASES = "releases", "Releases"
    BOTH = "both", "Series and releases"


class ExportFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV"
    MARKDOWN = "markdown", "Markdown"


# format → (file extension, Content-Type of the download)
FILE_TYPES: dict[str, tuple[str, str]] = {
    ExportFormat.JSON: ("json", "application/json"),
    ExportFormat.CSV: ("csv", "text/csv; charset=utf-8"),
    ExportFormat.MARKDOWN: ("md", "text/markdown; charset=utf-8"),
}


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    # A completed export whose file the retention cleanup has deleted.
    EXPIRED = "expired", "Expired"


ACTIVE_STATUSES = (ExportStatus.PENDING, ExportStatus.RUNNING)


class ExportJob(models.Model):
    """One requested export file, owned by a user or by the API admin token.

    `fields` holds the resolved field keys (anchor included) and `filters` the
    feed filters as query parameters; both are re-checked against the owner's
    tier when the worker runs, so a revoked admin gets no ownership columns.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="export_jobs",
    )
    # API clients using `auth.admin_token` have no user row; their exports
    # belong to the token.
    by_admin_token = models.BooleanField(default=False)
    export_type = models.CharField(max_length=16, choices=ExportType.choices)
    export_format = models.CharField(max_length=16, choices=ExportFormat.choices)
    fields = models.JSONField(default=list)
    filters = models.JSONField(default=dict, blank=True)

    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # "My exports, newest first" and the per-owner concurrency count.
            models.Index(fields=["user", "status"], name="export_owner_status_idx"),
            # The retention cleanup.
            models.Index(fields=["status", "expires_at"], name="export_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, by_admin_token=False)
                | Q(user__isnull=True, by_admin_token=True),
                name="export_has_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.export_type}, {self.export_format}, {self.status})"

    @property
    def extension(self) -> str:
        return FILE_TYPES[self.export_format][0]

    @property
    def content_type(self) -> str:
        return FILE_TYPES[self.export_format][1]

    @property
    def file_name(self) -> str:
        """The file's name in the exports directory (the worker writes `<name>.partial` first)."""
        return f"export-{self.pk}.{self.extension}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def is_expired(self, now: datetime | None = None) -> bool:
        """Past its retention, whether or not the cleanup has deleted the file yet."""
        if self.status == ExportStatus.EXPIRED:
            return True
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def effective_status(self) -> str:
        """The status to show: a completed file past its expiry reads as expired at once."""
        return ExportStatus.EXPIRED if self.is_expired() else self.status

    @property
    def is_downloadable(self) -> bool:
        return self.status == ExportStatus.COMPLETED and not self.is_expired()

    @property
    def download_name(self) -> str:
        """`tsundoku-<type>-<YYYYMMDD-HHMMSS>.<ext>`, in the server's time zone."""
        stamp = timezone.localtime(self.created_at).strftime("%Y%m%d-%H%M%S")
        return f"tsundoku-{self.export_type}-{stamp}.{self.extension}"
