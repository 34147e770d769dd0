"""The exports API: your own jobs only, their shape, download, cancel and delete."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from exports.models import ExportJob, ExportStatus
from exports.tasks import run_export_task

EXPORTS = "/api/v1/exports"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "exports.jobs.async_task", lambda func, job_id, **options: calls.append(job_id)
    )
    return calls


def user_client(django_user_model, username: str) -> APIClient:
    user = django_user_model.objects.create_user(username=username)
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def alice(django_user_model):
    return user_client(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model):
    return user_client(django_user_model, "bob")


def create(client, **body) -> dict:
    body.setdefault("type", "series")
    response = client.post(EXPORTS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_creating_answers_201_with_the_pending_job(alice, queued):
    job = create(alice, format="csv", fields=["year"], filters={"kind": "manga"})
    assert job == {
        "id": queued[0],
        "type": "series",
        "format": "csv",
        "status": "pending",
        "fields": ["canonicalTitle", "year"],
        "filters": {"kind": "manga"},
        "rowCount": None,
        "fileSize": None,
        "error": None,
        "createdAt": job["createdAt"],
        "startedAt": None,
        "finishedAt": None,
        "expiresAt": None,
        "fileName": job["fileName"],
        "downloadUrl": None,
    }
    assert job["fileName"].startswith("tsundoku-series-") and job["fileName"].endswith(".csv")


def test_a_completed_job_reports_its_counts_and_download_url(alice, queued, make_series):
    make_series("Berserk")
    job_id = create(alice)["id"]
    run_export_task(job_id)
    job = alice.get(f"{EXPORTS}/{job_id}").json()
    assert job["status"] == "completed"
    assert job["rowCount"] == 1
    assert job["fileSize"] > 0
    assert job["downloadUrl"] == f"{EXPORTS}/{job_id}/download"
    assert job["expiresAt"] > job["finishedAt"] >= job["startedAt"]


def test_the_list_holds_only_your_own_jobs_newest_first(
    alice, bob, queued, django_assert_max_num_queries
):
    first, second = create(alice), create(alice)
    create(bob)
    with django_assert_max_num_queries(4):
        page = alice.get(EXPORTS).json()
    assert [job["id"] for job in page["items"]] == [second["id"], first["id"]]
    assert (page["page"], page["pageSize"], page["total"]) == (1, 50, 2)


def test_the_list_costs_the_same_queries_for_many_jobs(
    alice, queued, django_assert_max_num_queries
):
    for _ in range(3):
        create(alice)
        ExportJob.objects.update(status=ExportStatus.COMPLETED)
    with django_assert_max_num_queries(4):
        assert alice.get(EXPORTS).json()["total"] == 3


def test_the_admin_token_owns_its_exports_apart_from_staff_sessions(
    admin_api, admin_client, queued
):
    token_job = create(admin_api)
    assert admin_api.get(EXPORTS).json()["total"] == 1
    assert admin_client.get(EXPORTS).json()["total"] == 0
    assert admin_client.get(f"{EXPORTS}/{token_job['id']}").status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "/download"), ("delete", ""), ("post", "/cancel")],
)
def test_another_users_export_is_not_found(alice, bob, queued, method, suffix):
    job = create(alice)
    run_export_task(job["id"])
    response = getattr(bob, method)(f"{EXPORTS}/{job['id']}{suffix}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert ExportJob.objects.filter(pk=job["id"], status=ExportStatus.COMPLETED).exists()


@pytest.mark.parametrize(
    ("export_format", "extension", "content_type"),
    [
        ("json", "json", "application/json"),
        ("csv", "csv", "text/csv; charset=utf-8"),
        ("markdown", "md", "text/markdown; charset=utf-8"),
    ],
)
def test_download_is_an_attachment_with_a_dated_name_and_its_content_type(
    alice, queued, make_series, tsundoku_config, settings, export_format, extension, content_type
):
    make_series("Berserk")
    job_id = create(alice, format=export_format)["id"]
    created = datetime(2025, 3, 1, 9, 30, 15, tzinfo=UTC)
    ExportJob.objects.filter(pk=job_id).update(created_at=created)
    run_export_task(job_id)

    response = alice.get(f"{EXPORTS}/{job_id}/download")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == content_type
    stamp = timezone.localtime(created).strftime("%Y%m%d-%H%M%S")
    assert response["Content-Disposition"] == (
        f'attachment; filename="tsundoku-series-{stamp}.{extension}"'
    )
    assert b"Berserk" in b"".join(response.streaming_content)


def test_download_before_completion_is_a_conflict(alice, queued):
    job = create(alice)
    response = alice.get(f"{EXPORTS}/{job['id']}/download")
    assert response.status_code == 409
    assert "pending" in response.json()["message"]


def test_download_after_expiry_is_a_conflict(alice, queued):
    job = create(alice)
    run_export_task(job["id"])
    ExportJob.objects.filter(pk=job["id"]).update(expires_at=timezone.now())
    response = alice.get(f"{EXPORTS}/{job['id']}/download")
    assert response.status_code == 409
    assert "expired" in response.json()["message"]
    assert alice.get(f"{EXPORTS}/{job['id']}").json()["status"] == "expired"


def test_delete_removes_the_job_and_its_file(alice, queued, data_dir):
    job = create(alice)
    run_export_task(job["id"])
    assert any((data_dir / "exports").iterdir())
    assert alice.delete(f"{EXPORTS}/{job['id']}").status_code == 204
    assert alice.get(f"{EXPORTS}/{job['id']}").status_code == 404
    assert not any((data_dir / "exports").iterdir())


def test_cancel_keeps_the_job_marked_cancelled(alice, queued):
    job = create(alice)
    response = alice.post(f"{EXPORTS}/{job['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert alice.post(f"{EXPORTS}/{job['id']}/cancel").status_code == 409


def test_type_is_required_and_choices_are_checked(alice, queued):
    response = alice.post(EXPORTS, {"format": "xlsx"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"type", "format"}
