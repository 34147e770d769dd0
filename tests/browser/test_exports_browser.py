"""An admin creates an export from the UI, waits for it to complete, and downloads it."""

from __future__ import annotations

import json

import pytest

from exports import jobs
from exports.models import ExportJob
from exports.tasks import run_export_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Stand in for the worker's queue: jobs wait until the test runs them."""
    waiting: list[int] = []
    monkeypatch.setattr(jobs, "async_task", lambda func, job_id, **kwargs: waiting.append(job_id))
    return waiting


def test_an_export_made_in_the_dialog_completes_and_downloads(
    admin_page, make_series, queued, tmp_path
):
    make_series("Berserk", kind="manga", anilist="30002")
    make_series('Title, with "quotes"', kind="manhwa")
    page = admin_page

    page.goto("/exports/")
    page.get_by_role("link", name="New export").first.click()
    dialog = page.locator("dialog#new-export")
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Start export").click()

    row = page.locator("#export-jobs tr[data-status]").first
    row.wait_for()
    assert row.get_attribute("data-status") == "pending"
    assert queued, "creating the export queued a job for the worker"

    run_export_task(queued.pop())  # the worker picks it up
    # The page polls the jobs table while a job is active: no reload needed.
    page.locator("#export-jobs tr[data-status='completed']").wait_for()
    job = ExportJob.objects.get()
    assert job.row_count == 2

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").first.click()
    download = download_info.value
    assert download.suggested_filename.startswith("tsundoku-series-")
    assert download.suggested_filename.endswith(".json")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert document["type"] == "series"
    assert document["rowCount"] == 2
    titles = {row["canonicalTitle"] for row in document["series"]}
    assert titles == {"Berserk", 'Title, with "quotes"'}
    berserk = next(row for row in document["series"] if row["canonicalTitle"] == "Berserk")
    assert berserk["externalIds"] == ["anilist:30002"]
    assert "codexStatus" in berserk  # the admin's export carries the ownership columns
