"""Export jobs: queueing, the lifecycle, the per-owner limit, cancel, delete, expiry."""

from __future__ import annotations

import os
from datetime import timedelta
from importlib import import_module

import pytest
from django.utils import timezone

from exports import jobs, pipeline
from exports.models import ExportJob, ExportStatus
from exports.schedules import export_schedules
from exports.tasks import cleanup_exports_task, run_export_task
from exports.writers import JsonWriter

pytestmark = pytest.mark.django_db

ADMIN = jobs.Owner(user_id=None, is_admin=True)


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path / "exports"


@pytest.fixture
def queued(monkeypatch):
    """Tasks handed to django-q, recorded instead of run."""
    calls = []
    monkeypatch.setattr(
        "exports.jobs.async_task",
        lambda func, *args, **options: calls.append((func, args, options)),
    )
    return calls


def new_job(owner=ADMIN, **options) -> ExportJob:
    options.setdefault("export_type", "series")
    options.setdefault("export_format", "json")
    options.setdefault("field_keys", None)
    options.setdefault("filters", {})
    return jobs.create_export(owner, **options)


def test_creating_an_export_queues_its_task_by_id(queued):
    job = new_job()
    assert job.status == ExportStatus.PENDING
    assert queued == [
        ("exports.tasks.run_export_task", (job.pk,), {"task_name": f"export-{job.pk}"})
    ]
    func_path, _, _ = queued[0]
    module, name = func_path.rsplit(".", 1)
    assert callable(getattr(import_module(module), name))


def test_a_job_runs_from_pending_to_completed_with_rows_size_and_expiry(
    queued, make_series, export_dir, tsundoku_config
):
    tsundoku_config(exports={"retention_days": 3})
    make_series("Berserk")
    make_series("Vinland Saga")
    job = new_job()
    assert run_export_task(job.pk) == "completed"
    job.refresh_from_db()
    assert job.status == ExportStatus.COMPLETED
    assert job.row_count == 2
    path = export_dir / job.file_name
    assert job.file_size == path.stat().st_size > 0
    assert job.started_at <= job.finished_at
    assert job.expires_at == job.finished_at + timedelta(days=3)
    assert list(export_dir.iterdir()) == [path]  # no partial file left behind


def test_a_job_runs_once(queued, make_series):
    job = new_job()
    assert run_export_task(job.pk) == "completed"
    assert run_export_task(job.pk) == "skipped"


def test_a_write_failure_marks_the_job_failed_with_the_reason(queued, monkeypatch, export_dir):
    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("exports.jobs.write_export", no_space)
    job = new_job()
    assert run_export_task(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert job.error == "Could not write the export file: No space left on device."
    assert job.finished_at is not None
    assert not any(export_dir.iterdir())


def test_an_unexpected_error_is_logged_but_not_shown(queued, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail /srv/secret/path")

    monkeypatch.setattr("exports.jobs.write_export", broken)
    job = new_job()
    run_export_task(job.pk)
    job.refresh_from_db()
    assert "internal detail" not in job.error
    assert "server log" in job.error
    assert "internal detail" in caplog.text


def test_the_next_export_past_the_per_owner_limit_is_refused(queued, tsundoku_config):
    tsundoku_config(exports={"max_concurrent_per_user": 2})
    new_job()
    running = new_job()
    ExportJob.objects.filter(pk=running.pk).update(status=ExportStatus.RUNNING)
    with pytest.raises(jobs.TooManyExports, match="the limit is 2"):
        new_job()
    assert ExportJob.objects.count() == 2


def test_finished_exports_do_not_count_towards_the_limit(queued, tsundoku_config):
    tsundoku_config(exports={"max_concurrent_per_user": 1})
    first = new_job()
    run_export_task(first.pk)
    assert new_job().status == ExportStatus.PENDING


def test_the_limit_is_per_owner(queued, tsundoku_config, staff_user):
    tsundoku_config(exports={"max_concurrent_per_user": 1})
    new_job()
    assert new_job(jobs.Owner(user_id=staff_user.pk, is_admin=True)).pk


def test_the_api_answers_409_with_a_message_past_the_limit(admin_api, queued, tsundoku_config):
    tsundoku_config(exports={"max_concurrent_per_user": 1})
    assert admin_api.post("/api/v1/exports", {"type": "series"}, format="json").status_code == 201
    response = admin_api.post("/api/v1/exports", {"type": "series"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert "1 export pending or running (the limit is 1)" in response.json()["message"]


def test_a_pending_export_cancelled_before_the_worker_starts_never_runs(queued, export_dir):
    job = new_job()
    assert jobs.cancel_export(job).status == ExportStatus.CANCELLED
    assert run_export_task(job.pk) == "skipped"
    assert not export_dir.exists() or not any(export_dir.iterdir())


def test_a_running_export_stops_at_the_next_chunk_when_cancelled(
    queued, make_series, monkeypatch, export_dir
):
    for number in range(5):
        make_series(f"Series {number}")
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 1)
    job = new_job()
    written = []
    original = JsonWriter.write_series

    def write_then_cancel(self, batch, releases):
        original(self, batch, releases)
        written.extend(zip(*batch, strict=True))  # the batch's rows (it comes as columns)
        if len(written) == 2:
            jobs.cancel_export(ExportJob.objects.get(pk=job.pk))

    monkeypatch.setattr(JsonWriter, "write_series", write_then_cancel)
    assert run_export_task(job.pk) == "cancelled"
    assert len(written) == 2
    job.refresh_from_db()
    assert job.status == ExportStatus.CANCELLED
    assert job.row_count is None
    assert not any(export_dir.iterdir())


def test_a_finished_export_cannot_be_cancelled(queued):
    job = new_job()
    run_export_task(job.pk)
    with pytest.raises(jobs.NotCancellable, match="completed"):
        jobs.cancel_export(job)


def test_deleting_an_export_removes_its_row_and_file(queued, export_dir):
    job = new_job()
    run_export_task(job.pk)
    assert (export_dir / job.file_name).exists()
    jobs.delete_export(job)
    assert not ExportJob.objects.filter(pk=job.pk).exists()
    assert not any(export_dir.iterdir())


def test_deleting_a_running_export_stops_the_worker(queued, make_series, monkeypatch, export_dir):
    make_series("One")
    make_series("Two")
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 1)
    job = new_job()
    original = JsonWriter.write_series

    def write_then_delete(self, batch, releases):
        original(self, batch, releases)
        jobs.delete_export(job)

    monkeypatch.setattr(JsonWriter, "write_series", write_then_delete)
    assert run_export_task(job.pk) == "cancelled"
    assert not ExportJob.objects.exists()
    assert not any(export_dir.iterdir())


def test_cleanup_deletes_expired_files_and_marks_their_jobs(queued, export_dir):
    expired, fresh = new_job(), new_job()
    run_export_task(expired.pk)
    run_export_task(fresh.pk)
    ExportJob.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    assert cleanup_exports_task() == {"expired": 1, "stale": 0, "orphans": 0}

    expired.refresh_from_db()
    fresh.refresh_from_db()
    assert expired.status == ExportStatus.EXPIRED
    assert not (export_dir / expired.file_name).exists()
    assert fresh.status == ExportStatus.COMPLETED
    assert (export_dir / fresh.file_name).exists()


def test_a_completed_export_past_its_expiry_reads_as_expired_before_cleanup(queued):
    job = new_job()
    run_export_task(job.pk)
    job.refresh_from_db()
    job.expires_at = timezone.now() - timedelta(seconds=1)
    assert job.effective_status == ExportStatus.EXPIRED
    assert not job.is_downloadable


def test_cleanup_fails_jobs_the_worker_abandoned(queued, settings):
    crashed, never_started = new_job(), new_job()
    long_ago = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"]) - timedelta(days=8)
    ExportJob.objects.filter(pk=crashed.pk).update(status=ExportStatus.RUNNING, started_at=long_ago)
    ExportJob.objects.filter(pk=never_started.pk).update(created_at=long_ago)

    assert jobs.cleanup_exports().stale == 2

    crashed.refresh_from_db()
    never_started.refresh_from_db()
    assert crashed.status == never_started.status == ExportStatus.FAILED
    assert "worker stopped or timed out" in crashed.error
    assert "qcluster" in never_started.error


def test_cleanup_removes_old_files_no_job_owns(queued, export_dir):
    kept = new_job()
    run_export_task(kept.pk)
    export_dir.joinpath("export-999.csv.partial").write_text("left by a crash")
    export_dir.joinpath("export-998.json").write_text("just written")
    hours_ago = (timezone.now() - timedelta(hours=2)).timestamp()
    os.utime(export_dir / "export-999.csv.partial", (hours_ago, hours_ago))
    os.utime(export_dir / kept.file_name, (hours_ago, hours_ago))

    assert jobs.cleanup_exports().orphans == 1
    assert {path.name for path in export_dir.iterdir()} == {"export-998.json", kept.file_name}


def test_the_cleanup_is_scheduled_daily():
    (spec,) = export_schedules()
    assert spec.name == "exports-cleanup"
    assert spec.cron == "17 3 * * *"
    module, name = spec.func.rsplit(".", 1)
    assert getattr(import_module(module), name) is cleanup_exports_task
