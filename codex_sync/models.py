"""What tsundoku knows about the operator's Codex library (admin-only data)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from codex_sync.client import CodexForbidden, CodexUnauthorized
from codex_sync.status import status_of_link
from feed.models import Series


class LinkKind(models.TextChoices):
    AUTO = "auto", "Automatic (shared external id)"
    MANUAL = "manual", "Manual (linked by the admin)"


class CodexLink(models.Model):
    """A catalog series that is on Codex, with what Codex owns of it.

    Auto links are rebuilt by each sweep; manual links are never overwritten
    or removed by a sweep, only their counts refreshed from the Codex series
    with the same UUID.
    """

    series = models.OneToOneField(Series, on_delete=models.CASCADE, related_name="codex_link")
    codex_series_uuid = models.UUIDField(db_index=True)
    link_kind = models.CharField(max_length=8, choices=LinkKind.choices, default=LinkKind.AUTO)
    matched_provider = models.CharField(max_length=32, blank=True, default="")
    matched_external_id = models.CharField(max_length=200, blank=True, default="")
    local_max_volume = models.IntegerField(null=True, blank=True)
    local_max_chapter = models.FloatField(null=True, blank=True)
    volumes_owned = models.IntegerField(null=True, blank=True)
    # A manual link: when a sweep last refreshed its counts (null until one
    # has seen it). An automatic link: when it last changed; it was synced by
    # the last successful sweep, which every reader shows
    # (`codex_sync.overlay.synced_at_of`).
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The status rule's answer (codex_sync/status.py), stored so the
    # `codexStatus` filter reads an index instead of evaluating the rule for
    # every link on every request. Kept true by `status.refresh_link_status`,
    # called by every writer of either side (see that function); null only
    # between a bulk insert and that call.
    status = models.CharField(max_length=8, null=True, blank=True, editable=False)  # noqa: DJ001

    class Meta:
        indexes = [
            models.Index(fields=["link_kind"], name="codex_link_kind_idx"),
            # `status IN (...)` → series ids, read from the index alone.
            models.Index(fields=["status", "series"], name="codex_link_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.series_id} → {self.codex_series_uuid} ({self.link_kind})"

    def save(self, *args, **kwargs) -> None:
        # A link saved one at a time (hand-linking, the Django admin, fixtures)
        # gets its status from the Python rule, the twin of the SQL one, so it
        # costs no extra query; set-based writers call `refresh_link_status`.
        self.status = status_of_link(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "status"}
        super().save(*args, **kwargs)


class AuthState(models.TextChoices):
    UNKNOWN = "unknown", "Not checked yet"
    OK = "ok", "Connected"
    # The client's headlines for 401/403, so the admin screens say exactly what it says.
    UNAUTHORIZED = "unauthorized", CodexUnauthorized.default_message
    FORBIDDEN = "forbidden", CodexForbidden.default_message


class ConnectionStatus(models.Model):
    """The one row describing the Codex connection now, plus the sweep lock.

    The lock is claimed with a conditional UPDATE (works the same on SQLite
    and PostgreSQL) and carries an expiry so a crashed sweep cannot hold it.
    """

    SINGLETON_ID = 1

    reachable = models.BooleanField(null=True)
    codex_name = models.CharField(max_length=100, blank=True, default="")
    codex_version = models.CharField(max_length=50, blank=True, default="")
    auth_state = models.CharField(
        max_length=16, choices=AuthState.choices, default=AuthState.UNKNOWN
    )
    last_preflight_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    linked_count = models.PositiveIntegerField(default=0)
    fetched_count = models.PositiveIntegerField(default=0)
    lock_token = models.CharField(max_length=64, blank=True, default="")
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    progress_pages = models.PositiveIntegerField(default=0)
    progress_total_pages = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "connection status"

    def __str__(self) -> str:
        return f"Codex {self.codex_name} {self.codex_version}".strip()

    @classmethod
    def get(cls) -> ConnectionStatus:
        status, _ = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return status


class SyncTrigger(models.TextChoices):
    CRON = "cron", "Schedule"
    MANUAL = "manual", "Manual"


class SyncOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    PREFLIGHT_FAILED = "preflight_failed", "Codex unreachable"
    AUTH_FAILED = "auth_failed", "API key problem"
    ERROR = "error", "Error"
    # The index would have removed most automatic links: nothing applied (sweep.HOLD_BACK_SHARE).
    HELD_BACK = "held_back", "Held back"
    # Its process died mid-run; closed by the next sweep (or the Codex page).
    CRASHED = "crashed", "Crashed"


class SyncRun(models.Model):
    """One sweep attempt and what came of it."""

    trigger = models.CharField(max_length=8, choices=SyncTrigger.choices)
    outcome = models.CharField(
        max_length=20, choices=SyncOutcome.choices, default=SyncOutcome.RUNNING
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    linked = models.PositiveIntegerField(default=0)
    new_links = models.PositiveIntegerField(default=0)
    removed_links = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-started_at"], name="sync_run_recent_idx")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.trigger} {self.outcome}"


class HealthCheck(models.Model):
    """A reachability observation, stored when reachability changes or on Test connection."""

    checked_at = models.DateTimeField(default=timezone.now)
    reachable = models.BooleanField()
    codex_name = models.CharField(max_length=100, blank=True, default="")
    codex_version = models.CharField(max_length=50, blank=True, default="")
    auth_state = models.CharField(max_length=16, choices=AuthState.choices, blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'up' if self.reachable else 'down'}"


class ConflictKind(models.TextChoices):
    CODEX_MATCHES_MANY = "codex_matches_many", "One Codex series matches several series"
    MANY_CLAIM_ONE = "many_claim_one", "Several Codex series claim one series"


class SyncConflict(models.Model):
    """A matching ambiguity from the last successful sweep, and how it was settled."""

    kind = models.CharField(max_length=24, choices=ConflictKind.choices)
    codex_series_uuids = models.JSONField(default=list)
    series_ids = models.JSONField(default=list)
    chosen_codex_series_uuid = models.CharField(max_length=36, blank=True, default="")
    chosen_series_id = models.BigIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True, default="")
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.get_kind_display()


class UnmatchedCodexSeries(models.Model):
    """A Codex series from the last successful sweep that matched no catalog series."""

    codex_series_uuid = models.UUIDField(unique=True)
    external_ids = models.JSONField(default=list)
    local_max_volume = models.IntegerField(null=True, blank=True)
    local_max_chapter = models.FloatField(null=True, blank=True)
    volumes_owned = models.IntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "unmatched Codex series"

    def __str__(self) -> str:
        return str(self.codex_series_uuid)
