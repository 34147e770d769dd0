"""The Exports page, its "New export" dialog and form actions, and "Export this view"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from exports import jobs
from exports.models import ExportJob, ExportStatus
from feed.queries import parse_filters

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "exports.jobs.async_task", lambda func, job_id, **options: calls.append(job_id)
    )
    return calls


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user(username="reader")


@pytest.fixture
def reader_client(reader):
    # Its own client: the shared `client` fixture is the one `admin_client` logs in.
    client = Client()
    client.force_login(reader)
    return client


def job_for(user, **fields) -> ExportJob:
    fields.setdefault("export_type", "series")
    fields.setdefault("export_format", "csv")
    return ExportJob.objects.create(user=user, **fields)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/exports/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_empty_list_invites_a_new_export(reader_client):
    page = reader_client.get("/exports/").content.decode()
    assert "No exports yet" in page
    assert 'href="?new=1" data-open-export-dialog>New export</a>' in page


def test_the_table_shows_each_job_and_a_failed_jobs_error_on_hover(reader_client, reader):
    job_for(reader, status=ExportStatus.FAILED, error="Could not write the export file: disk full.")
    done = job_for(reader, status=ExportStatus.COMPLETED, row_count=12345, file_size=2048)
    page = reader_client.get("/exports/").content.decode()
    assert 'title="Could not write the export file: disk full."' in page
    assert "12,345" in page
    assert "2.0 KiB" in page
    assert f'href="/api/v1/exports/{done.pk}/download"' in page


def test_only_your_own_jobs_are_listed(reader_client, staff_user):
    job_for(staff_user, status=ExportStatus.COMPLETED, row_count=777)
    assert "777" not in reader_client.get("/exports/").content.decode()


def test_the_page_costs_a_fixed_number_of_queries(
    reader_client, reader, django_assert_max_num_queries
):
    for _ in range(5):
        job_for(reader, status=ExportStatus.COMPLETED)
    with django_assert_max_num_queries(4):
        reader_client.get("/exports/")


def test_the_dialog_offers_ownership_fields_and_the_codex_filter_to_admins_only(
    reader_client, admin_client
):
    reader_page = reader_client.get("/exports/").content.decode()
    admin_page = admin_client.get("/exports/").content.decode()
    for marker in ('value="codexStatus"', 'name="codexStatus"', "Ownership"):
        assert marker not in reader_page
        assert marker in admin_page


def test_new_opens_the_dialog_scoped_to_the_feeds_filters(admin_client):
    page = admin_client.get("/exports/?new=1&kind=manhwa&codexStatus=behind&q=solo").content
    page = page.decode()
    assert '<dialog id="new-export" class="export-dialog panel" aria-labelledby' in page
    assert 'aria-labelledby="new-export-title" open>' in page
    assert 'name="kind" value="manhwa" checked' in page
    assert 'name="codexStatus" value="behind" checked' in page
    assert 'name="q" value="solo"' in page


def test_the_dialog_form_queues_an_export_with_the_types_own_fields(reader_client, queued):
    response = reader_client.post(
        "/exports/new",
        {
            "type": "series",
            "format": "csv",
            "series_fields": ["year", "genres"],
            "release_fields": ["magnet"],
            "kind": "manga",
            "q": "",
            "sort": "title",
        },
        follow=True,
    )
    job = ExportJob.objects.get()
    assert queued == [job.pk]
    assert (job.export_type, job.export_format) == ("series", "csv")
    assert job.fields == ["canonicalTitle", "year", "genres"]
    assert job.filters == {"kind": "manga", "sort": "title"}
    assert "Export queued: series as CSV." in response.content.decode()


def test_the_dialog_form_reports_a_refused_export(reader_client):
    response = reader_client.post("/exports/new", {"type": "both", "format": "csv"}, follow=True)
    assert "CSV holds a single table" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_the_dialog_form_reports_the_concurrency_limit(reader_client, reader, tsundoku_config):
    tsundoku_config(exports={"max_concurrent_per_user": 1})
    job_for(reader)
    response = reader_client.post("/exports/new", {"type": "series"}, follow=True)
    assert "the limit is 1" in response.content.decode()


def test_cancel_and_delete_buttons(reader_client, reader, data_dir):
    pending = job_for(reader)
    page = reader_client.get("/exports/").content.decode()
    assert f'action="/exports/{pending.pk}/cancel"' in page

    reader_client.post(f"/exports/{pending.pk}/cancel")
    pending.refresh_from_db()
    assert pending.status == ExportStatus.CANCELLED

    reader_client.post(f"/exports/{pending.pk}/delete")
    assert not ExportJob.objects.exists()


def test_another_users_export_cannot_be_cancelled_or_deleted(reader_client, staff_user):
    theirs = job_for(staff_user)
    assert reader_client.post(f"/exports/{theirs.pk}/cancel").status_code == 404
    assert reader_client.post(f"/exports/{theirs.pk}/delete").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ExportStatus.PENDING


def test_the_table_fragment_asks_for_refresh_only_while_a_job_is_active(reader_client, reader):
    job = job_for(reader)
    assert "data-active" in reader_client.get("/exports/table").content.decode()
    owner = jobs.Owner(user_id=reader.pk, is_admin=False)
    jobs.cancel_export(owner.jobs().get(pk=job.pk))
    fragment = reader_client.get("/exports/table").content.decode()
    assert fragment.startswith('<div id="export-jobs"')
    assert "data-active" not in fragment


def render_export_this_view(user, query: str) -> str:
    request = RequestFactory().get(f"/?{query}")
    request.user = user
    filters = parse_filters(request.GET, is_admin=False)
    return render_to_string(
        "exports/export_this_view.html", {"filters": filters, "user": user}, request=request
    )


def test_export_this_view_carries_the_feeds_filters(reader):
    html = render_export_this_view(reader, "kind=manga&status=ongoing&q=blue+lock&page=3")
    assert 'href="/exports/?new=1&amp;q=blue+lock&amp;kind=manga&amp;status=ongoing"' in html
    assert ">Export this view</a></p>" in html


def test_export_this_view_is_absent_for_anonymous_readers():
    assert render_export_this_view(AnonymousUser(), "kind=manga").strip() == ""


def test_the_django_admin_lists_every_owners_jobs(admin_client, reader, staff_user):
    job_for(reader, status=ExportStatus.FAILED)
    job_for(staff_user)
    page = admin_client.get("/admin/exports/exportjob/")
    assert page.status_code == 200
    assert page.content.decode().count('class="field-id"') == 2
    assert admin_client.get("/admin/exports/exportjob/add/").status_code == 403


def test_the_feed_offers_export_this_view_with_its_filters(reader_client):
    page = reader_client.get("/?kind=manhwa&sort=title").content.decode()
    assert 'href="/exports/?new=1&amp;kind=manhwa&amp;sort=title"' in page
