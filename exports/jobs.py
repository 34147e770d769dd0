"""Export jobs as services: create (with the per-owner limit), run, cancel, delete, clean up.

Views and the API call these; the worker calls `run_export` through
`exports.tasks`. State changes are conditional UPDATEs checked by row count
(pending → running claims a job once; running → completed only if nobody
cancelled or deleted it meanwhile), so the web process and the worker never
need a lock between them and behave the same on SQLite and PostgreSQL.

Cancelling is cooperative: the worker checks its row every `CHUNK_SIZE` rows
and stops, deleting its partial file, once the row is no longer running.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from exports.fields import UnknownFields
from exports.models import ACTIVE_STATUSES, ExportJob, ExportStatus
from exports.pipeline import InvalidExport, build_spec, write_export
from tsundoku.access import AdminTokenUser, is_admin, is_admin_user

logger = logging.getLogger(__name__)

# A worker that dies (or is killed at the django-q timeout) leaves its job
# "running"; past the timeout plus this grace the cleanup marks it failed.
STALE_GRACE = timedelta(minutes=5)
# Files nobody owns (a crash between writing and recording) are removed once
# they are this old, so a file being written right now is never touched.
ORPHAN_GRACE = timedelta(hours=1)
PARTIAL_SUFFIX = ".partial"


class ExportError(Exception):
    """An export request that cannot be honoured; the message is for the user."""


class TooManyExports(ExportError):
    """The owner already has the maximum number of pending or running exports."""


class NotCancellable(ExportError):
    """Only pending or running exports can be cancelled."""


class ExportCancelled(Exception):
    """Raised inside the worker when its job was cancelled or deleted."""


@dataclass(frozen=True)
class Owner:
    """Who exports belong to: a user, or the API admin token (`user_id` None)."""

    user_id: int | None
    is_admin: bool

    @classmethod
    def of(cls, request) -> Owner | None:
        """The owner behind a request; None for anonymous readers, who cannot export."""
        user = getattr(request, "user", None)
        if isinstance(user, AdminTokenUser):
            return cls(user_id=None, is_admin=True)
        if user is not None and user.is_authenticated:
            return cls(user_id=user.pk, is_admin=is_admin(request))
        return None

    def jobs(self) -> QuerySet[ExportJob]:
        if self.user_id is None:
            return ExportJob.objects.filter(by_admin_token=True)
        return ExportJob.objects.filter(user_id=self.user_id)


def exports_dir() -> Path:
    return Path(settings.DATA_DIR) / "exports"


def file_path(job: ExportJob) -> Path:
    return exports_dir() / job.file_name


def _partial_path(job: ExportJob) -> Path:
    return exports_dir() / (job.file_name + PARTIAL_SUFFIX)


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def create_export(
    owner: Owner,
    *,
    export_type: str,
    export_format: str,
    field_keys: list[str] | None,
    filters: Mapping,
    preset: str | None = None,
) -> ExportJob:
    """Validate, record and queue an export.

    Raises `InvalidExport` / `UnknownFields` for a bad request and
    `TooManyExports` when the owner is at `exports.max_concurrent_per_user`.
    """
    spec = build_spec(
        export_type, export_format, field_keys, filters, is_admin=owner.is_admin, preset=preset
    )
    limit = settings.TSUNDOKU.exports["max_concurrent_per_user"]
    with transaction.atomic():
        if owner.user_id is not None:
            # Two simultaneous requests must not both pass the count: lock the
            # user's row (PostgreSQL; SQLite's IMMEDIATE transactions already
            # serialise writers).
            list(get_user_model().objects.select_for_update().filter(pk=owner.user_id))
        active = owner.jobs().filter(status__in=ACTIVE_STATUSES).count()
        if active >= limit:
            raise TooManyExports(
                f"You already have {active} export{'s' if active != 1 else ''} pending or "
                f"running (the limit is {limit}). Wait for one to finish or cancel one."
            )
        job = ExportJob.objects.create(
            user_id=owner.user_id,
            by_admin_token=owner.user_id is None,
            export_type=spec.export_type,
            export_format=spec.export_format,
            fields=spec.selection.keys,
            filters=spec.filters.as_query_params(),
        )
    try:
        async_task("exports.tasks.run_export_task", job.pk, task_name=f"export-{job.pk}")
    except Exception:
        _fail(job.pk, "The export could not be queued.")
        raise
    return job


def runs_as_admin(job: ExportJob) -> bool:
    """The owner's tier now: a user who lost staff status gets no ownership columns.

    The same rule as `tsundoku.access.is_admin`, applied to the job's owner
    rather than to a request (the worker has none).
    """
    return job.by_admin_token or is_admin_user(job.user)


def run_export(job_id: int) -> str:
    """The worker: claim a pending job, stream its file, record the outcome.

    Returns the outcome (`completed`, `failed`, `cancelled`, or `skipped` when
    the job was no longer pending, e.g. cancelled before the worker got to it).
    """
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    final, partial = file_path(job), _partial_path(job)

    def checkpoint() -> None:
        if not _is_running(job_id):
            raise ExportCancelled

    try:
        spec = build_spec(
            job.export_type, job.export_format, job.fields, job.filters, is_admin=runs_as_admin(job)
        )
        exports_dir().mkdir(parents=True, exist_ok=True)
        with partial.open("w", encoding="utf-8", newline="") as stream:
            rows = write_export(spec, stream, checkpoint=checkpoint)
        checkpoint()
        os.replace(partial, final)
    except ExportCancelled:
        _remove(partial)
        return "cancelled"
    except (InvalidExport, UnknownFields) as exc:
        _remove(partial)
        _fail(job_id, str(exc))
        return "failed"
    except Exception as exc:
        _remove(partial)
        if not _is_running(job_id):
            # Deleted while writing: its file vanished under us, not a failure.
            return "cancelled"
        logger.exception("Export %s failed", job_id)
        _fail(job_id, _describe_failure(exc))
        return "failed"
    finished = timezone.now()
    retention = timedelta(days=settings.TSUNDOKU.exports["retention_days"])
    completed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.COMPLETED,
        finished_at=finished,
        expires_at=finished + retention,
        row_count=rows,
        file_size=final.stat().st_size,
    )
    if not completed:
        _remove(final)
        return "cancelled"
    return "completed"


def _is_running(job_id: int) -> bool:
    return ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).exists()


def _describe_failure(exc: Exception) -> str:
    """A message for the export list: the cause when it helps, never internals."""
    if isinstance(exc, OSError):
        return f"Could not write the export file: {exc.strerror or exc}."
    return "Unexpected error while writing the export; the server log has the details."


def _fail(job_id: int, error: str) -> None:
    ExportJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).update(
        status=ExportStatus.FAILED, finished_at=timezone.now(), error=error
    )


def cancel_export(job: ExportJob) -> ExportJob:
    """Stop a pending or running export; `NotCancellable` once it has finished."""
    cancelled = ExportJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=ExportStatus.CANCELLED, finished_at=timezone.now()
    )
    if not cancelled:
        job.refresh_from_db()
        raise NotCancellable(
            f"This export is {job.get_status_display().lower()}; "
            "only pending or running exports can be cancelled."
        )
    # The worker notices within one chunk and stops; its partial file goes now.
    _remove(_partial_path(job))
    job.refresh_from_db()
    return job


def delete_export(job: ExportJob) -> None:
    """Forget an export and remove its file; a running one is cancelled by the deletion."""
    ExportJob.objects.filter(pk=job.pk).delete()
    _remove(file_path(job), _partial_path(job))


@dataclass(frozen=True)
class CleanupSummary:
    expired: int
    stale: int
    orphans: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def cleanup_exports(now: datetime | None = None) -> CleanupSummary:
    """The scheduled cleanup: expire old files, fail abandoned jobs, remove orphan files."""
    now = now or timezone.now()
    expired = list(ExportJob.objects.filter(status=ExportStatus.COMPLETED, expires_at__lte=now))
    for job in expired:
        _remove(file_path(job))
    ExportJob.objects.filter(
        pk__in=[job.pk for job in expired], status=ExportStatus.COMPLETED
    ).update(status=ExportStatus.EXPIRED)

    task_timeout = timedelta(seconds=settings.Q_CLUSTER["timeout"])
    stale = ExportJob.objects.filter(
        status=ExportStatus.RUNNING, started_at__lt=now - task_timeout - STALE_GRACE
    ).update(
        status=ExportStatus.FAILED,
        finished_at=now,
        error="The export did not finish: the background worker stopped or timed out.",
    )
    retention = timedelta(days=settings.TSUNDOKU.exports["retention_days"])
    stale += ExportJob.objects.filter(
        status=ExportStatus.PENDING, created_at__lt=now - retention
    ).update(
        status=ExportStatus.FAILED,
        finished_at=now,
        error="The export never started: is the background worker (manage.py qcluster) running?",
    )
    return CleanupSummary(expired=len(expired), stale=stale, orphans=_remove_orphans(now))


def _remove_orphans(now: datetime) -> int:
    """Files in the exports directory that no pending, running or completed job owns."""
    directory = exports_dir()
    if not directory.is_dir():
        return 0
    keep = ExportJob.objects.filter(status__in=[*ACTIVE_STATUSES, ExportStatus.COMPLETED])
    owned = set()
    for job in keep.only("pk", "export_format"):
        owned.update({job.file_name, job.file_name + PARTIAL_SUFFIX})
    removed = 0
    cutoff = (now - ORPHAN_GRACE).timestamp()
    for path in directory.iterdir():
        if path.is_file() and path.name not in owned and path.stat().st_mtime < cutoff:
            _remove(path)
            removed += 1
    return removed
