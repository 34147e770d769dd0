"""Ownership columns are the admin's alone; exports need an owner (no anonymous exports)."""

from __future__ import annotations

import json
import uuid

import pytest
from rest_framework.test import APIClient

from codex_sync.models import CodexLink
from exports.models import ExportJob
from exports.tasks import run_export_task
from tests.helpers import OWNERSHIP_FIELDS, READ_KEY

EXPORTS = "/api/v1/exports"
CODEX_UUID = uuid.UUID("0b9f3d3e-1111-4c8e-9d7a-5b0c8e2f9a01")

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir", "run_exports_inline")]


@pytest.fixture
def reader(django_user_model):
    """A logged-in user who is not staff."""
    user = django_user_model.objects.create_user(username="reader")
    client = APIClient()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def library(make_series):
    """Berserk is behind on Codex (41 surfaced, 40 owned); Vinland is not on Codex."""
    berserk = make_series("Berserk", highest_volume=41.0)
    CodexLink.objects.create(
        series=berserk, codex_series_uuid=CODEX_UUID, local_max_volume=40, volumes_owned=38
    )
    make_series("Vinland Saga", highest_volume=12.0)
    return berserk


def download(client, job_id: int) -> bytes:
    return b"".join(client.get(f"{EXPORTS}/{job_id}/download").streaming_content)


def create(client, **body):
    body.setdefault("filters", {"sort": "title"})
    return client.post(EXPORTS, body, format="json")


def test_admin_exports_carry_ownership_computed_by_the_status_rule(admin_api, library):
    job = create(admin_api, type="series", fields=OWNERSHIP_FIELDS).json()
    berserk, vinland = json.loads(download(admin_api, job["id"]))["series"]
    assert berserk == {
        "canonicalTitle": "Berserk",
        "owned": True,
        "codexStatus": "behind",
        "codexLocalMaxVolume": 40,
        "codexLocalMaxChapter": None,
        "codexVolumesOwned": 38,
        "codexUrl": f"http://codex.test/series/{CODEX_UUID}",
    }
    assert vinland["owned"] is False
    assert vinland["codexStatus"] is None


def test_non_admin_catalog_and_presets_have_no_ownership_fields(reader):
    catalog = reader.get(f"{EXPORTS}/fields").json()
    series = next(entity for entity in catalog["entities"] if entity["entity"] == "series")
    assert "Ownership" not in [group["name"] for group in series["groups"]]
    text = json.dumps(catalog)
    for key in OWNERSHIP_FIELDS:
        assert f'"{key}"' not in text


def test_non_admin_cannot_request_ownership_fields(reader, library):
    response = create(reader, type="series", fields=["year", "codexStatus", "owned"])
    assert response.status_code == 400
    assert "Unknown fields for a series export: codexStatus, owned." in response.json()["message"]


@pytest.mark.parametrize(
    ("export_type", "export_format"), [("both", "json"), ("both", "markdown"), ("series", "csv")]
)
def test_non_admin_exports_hold_no_trace_of_the_codex_library(
    reader, library, export_type, export_format
):
    job = create(reader, type=export_type, format=export_format)
    assert job.status_code == 201
    content = download(reader, job.json()["id"]).decode("utf-8")
    assert "Berserk" in content
    assert str(CODEX_UUID) not in content
    assert "codex" not in content.lower()
    assert "behind" not in content


def test_non_admin_codex_status_filter_is_silently_ignored(reader, library):
    job = create(reader, type="series", fields=[], filters={"codexStatus": "behind"}).json()
    assert job["filters"] == {}
    titles = [row["canonicalTitle"] for row in json.loads(download(reader, job["id"]))["series"]]
    assert sorted(titles) == ["Berserk", "Vinland Saga"]


def test_a_user_who_loses_staff_status_gets_no_ownership_columns(
    django_user_model, library, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "exports.jobs.async_task", lambda func, job_id, **options: queued.append(job_id)
    )
    staff = django_user_model.objects.create_user(username="was-staff", is_staff=True)
    client = APIClient()
    client.force_login(staff)
    assert create(client, type="series", fields=["codexStatus"]).status_code == 201
    staff.is_staff = False
    staff.save()
    run_export_task(queued[0])
    job = ExportJob.objects.get(pk=queued[0])
    assert job.status == "failed"
    assert "codexStatus" in job.error


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", EXPORTS),
        ("post", EXPORTS),
        ("get", f"{EXPORTS}/fields"),
        ("get", f"{EXPORTS}/1"),
        ("get", f"{EXPORTS}/1/download"),
        ("delete", f"{EXPORTS}/1"),
    ],
)
def test_anonymous_readers_cannot_export_even_when_reads_are_open(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_the_read_key_is_not_an_export_owner(api_client, tsundoku_config):
    tsundoku_config(auth={"read_requires_auth": True})
    api_client.credentials(HTTP_X_API_KEY=READ_KEY)
    assert api_client.get(EXPORTS).status_code == 401
