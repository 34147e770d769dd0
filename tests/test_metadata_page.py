"""The Metadata admin page: admin only, shows the dump and refreshes, Refresh now queues one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from metadata.models import DumpRefresh, RefreshOutcome
from tests.helpers import ADMIN_TOKEN
from tests.mangabaka_helpers import API_KEY, configure, install_dump, row

# session + user, in-flight refresh, last finished, last success, the history list.
QUERIES = 6


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(
        "metadata.tasks.async_task", lambda func, *args, **options: calls.append((func, args))
    )
    return calls


@pytest.mark.parametrize("name", ["metadata:index", "metadata:status"])
def test_anonymous_readers_are_sent_to_log_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_signed_in_non_admins_are_refused(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("reader", password="pw-123456"))
    assert client.get(reverse("metadata:index")).status_code == 403
    assert client.get(reverse("metadata:status")).status_code == 403
    assert client.post(reverse("metadata:refresh")).status_code == 403


def test_anonymous_refresh_posts_are_refused(client, db, queued):
    assert client.post(reverse("metadata:refresh")).status_code == 403
    assert queued == [] and not DumpRefresh.objects.exists()


def test_the_admin_sees_no_dump_yet_and_a_nav_link(admin_client, data_dir):
    response = admin_client.get(reverse("metadata:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No dump installed yet" in html
    assert f'href="{reverse("metadata:index")}"' in html
    assert "Refresh now" in html


def test_readers_get_no_nav_link(client, db):
    html = client.get(reverse("feed:index")).content.decode()
    assert reverse("metadata:index") not in html


def test_the_page_shows_the_installed_dump_and_recent_refreshes(
    admin_client, data_dir, settings, django_assert_num_queries
):
    configure(settings, api_key=API_KEY, api_fallback=True)
    install_dump([row(1, "A"), row(2, "B")])
    DumpRefresh.objects.create(
        source="x", outcome=RefreshOutcome.SUCCEEDED, records=2, rows=2, version="ab" * 20
    )
    DumpRefresh.objects.filter(outcome=RefreshOutcome.SUCCEEDED).update(
        finished_at="2026-11-30T03:30Z"
    )
    for index in range(15):
        DumpRefresh.objects.create(
            source="x", outcome=RefreshOutcome.FAILED, error=f"the dump has {index} series"
        )

    with django_assert_num_queries(QUERIES):
        response = admin_client.get(reverse("metadata:index"))

    html = response.content.decode()
    assert "Yes" in html and "2 active" in html
    assert "abababababab" in html
    assert "the dump has 14 series" in html  # the last failure is shown
    assert html.count("<tr>") == 11  # header + the 10 most recent
    assert API_KEY not in html
    assert "API key set" in html


def test_status_json_reports_a_running_refresh_with_progress(admin_client, data_dir):
    DumpRefresh.objects.create(
        source="x",
        outcome=RefreshOutcome.RUNNING,
        phase="downloading",
        bytes_downloaded=250,
        bytes_total=1000,
    )
    body = admin_client.get(reverse("metadata:status")).json()
    assert body["installed"] is False
    assert body["running"]["phase"] == "downloading"
    assert body["running"]["percent"] == 25
    assert "api_key" not in body and body["api_key_set"] is False


def test_refresh_now_queues_one_refresh_and_skips_a_second(admin_client, data_dir, queued):
    response = admin_client.post(reverse("metadata:refresh"))
    assert response.status_code == 302
    refresh = DumpRefresh.objects.get()
    assert refresh.outcome == RefreshOutcome.QUEUED
    assert queued == [("metadata.tasks.refresh_task", (refresh.id,))]

    admin_client.post(reverse("metadata:refresh"))
    assert len(queued) == 1 and DumpRefresh.objects.count() == 1


def test_refresh_now_with_the_admin_token_is_not_a_page_api(client, db):
    # Pages use the session; the bearer token alone is an admin too (access tiers).
    response = client.get(reverse("metadata:status"), HTTP_AUTHORIZATION=f"Bearer {ADMIN_TOKEN}")
    assert response.status_code == 200


def test_a_disabled_provider_says_so_and_queues_nothing(admin_client, data_dir, settings, queued):
    configure(settings, enabled=False)
    assert "MangaBaka is disabled" in admin_client.get(reverse("metadata:index")).content.decode()
    admin_client.post(reverse("metadata:refresh"))
    assert queued == []
