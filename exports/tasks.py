"""django-q2 entry points for exports; they take ids, never model instances."""

from __future__ import annotations

from exports import jobs


def run_export_task(job_id: int) -> str:
    """Worker entry point queued by `exports.jobs.create_export`."""
    return jobs.run_export(job_id)


def cleanup_exports_task() -> dict[str, int]:
    """The daily schedule: expire files past `exports.retention_days`, tidy abandoned jobs."""
    return jobs.cleanup_exports().as_dict()
