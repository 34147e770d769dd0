"""The Sources page (admin): state, schedule, counts, history, Poll now, backfill; and per-series
search from the series page."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import responses
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from feed.models import Release, SourceState
from feed.polling import PollSummary, record_run
from feed.tasks import series_search_task, source_run_task
from tests.nyaa_helpers import nyaa_page, rss, running_nyaa
from tsundoku.config import SourceConfig

FEED_URL = "https://nyaa.test/?page=rss&c=3_1&f=0"
LIT = SourceConfig(kind="nyaa", name="lit", feed_url=FEED_URL, cron="*/30 * * * *", enabled=True)
OFF = SourceConfig(
    kind="nyaa",
    name="paused",
    feed_url="https://nyaa.test/?page=rss&c=3_2",
    cron=None,
    enabled=False,
    detail_pages=False,
)
# session + user, source states, schedules.
QUERIES = 4


@pytest.fixture
def sources(settings):
    settings.TSUNDOKU = dataclasses.replace(settings.TSUNDOKU, sources=(LIT, OFF))
    return (LIT, OFF)


def run_url(name: str) -> str:
    return reverse("feed:source-run", args=[name])


@pytest.mark.parametrize("name", ["feed:sources", "feed:sources-status"])
def test_anonymous_readers_are_sent_to_log_in(client, db, sources, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_signed_in_non_admins_are_refused_everything(
    client, django_user_model, sources, queued_source_runs, make_series
):
    client.force_login(django_user_model.objects.create_user("reader", password="pw-123456"))
    series = make_series("Frieren")

    assert client.get(reverse("feed:sources")).status_code == 403
    assert client.get(reverse("feed:sources-status")).status_code == 403
    assert client.post(run_url("lit"), {"action": "poll"}).status_code == 403
    assert client.post(reverse("feed:series-search", args=[series.pk])).status_code == 403
    assert queued_source_runs == []
    assert (
        "Search sources now"
        not in client.get(reverse("feed:detail", args=[series.pk])).content.decode()
    )


def test_anonymous_posts_are_refused(client, db, sources, queued_source_runs):
    assert client.post(run_url("lit"), {"action": "backfill"}).status_code == 403
    assert (
        queued_source_runs == [] and not SourceState.objects.filter(running_action__gt="").exists()
    )


def test_the_page_shows_every_source_its_last_poll_counts_next_run_and_history(
    admin_client, sources, django_assert_num_queries
):
    next_run = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    Schedule.objects.create(
        name="poll-source:lit", func="feed.tasks.poll_source_task", next_run=next_run
    )
    started = timezone.now()
    record_run(LIT, PollSummary(fetched=75, new=3, resolved=2, skipped=1), started)
    record_run(LIT, PollSummary(error="https://nyaa.test answered HTTP 503"), started)
    record_run(LIT, PollSummary(fetched=75, new=75, pages=1), started, action="backfill")

    with django_assert_num_queries(QUERIES):
        response = admin_client.get(reverse("feed:sources"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{reverse("feed:sources")}" aria-current="page"' in html
    assert "lit" in html and "paused" in html and "disabled" in html
    assert "2026-12-01 02:30 UTC" in html
    assert "fetched 75" in html and "new 3" in html and "skipped 1" in html
    assert "answered HTTP 503" in html  # the last error, and in the history
    assert html.count("<td>backfill") == 1 and html.count("<td>poll") == 2
    assert "failed" in html  # the outcome: the last poll failed
    assert "Poll now" in html and "Backfill" in html
    assert "No runs yet." in html  # the paused source


def test_the_page_shows_a_running_poll_reading_detail_pages(admin_client, sources):
    SourceState.objects.create(
        name="lit",
        running_action="poll",
        running_since=timezone.now(),
        progress={"details_done": 4, "details_total": 25},
    )

    html = admin_client.get(reverse("feed:sources")).content.decode()

    assert "Poll running: detail page 4 of 25…" in html
    assert 'data-running="true"' in html


def test_status_json_reports_the_running_backfill(admin_client, sources):
    SourceState.objects.create(
        name="lit",
        running_action="backfill",
        running_since=timezone.now(),
        progress={"pages_done": 2, "pages_total": 5, "new": 150},
    )

    body = admin_client.get(reverse("feed:sources-status")).json()

    lit = body["sources"][0]
    assert (lit["name"], lit["outcome"], lit["enabled"]) == ("lit", "never polled", True)
    assert lit["running"]["action"] == "backfill"
    assert (lit["running"]["pages_done"], lit["running"]["pages_total"]) == (2, 5)
    assert body["sources"][1]["running"] is None


def test_poll_now_queues_once_and_a_second_click_is_skipped(
    admin_client, sources, queued_source_runs
):
    first = admin_client.post(run_url("lit"), {"action": "poll"}, follow=True)
    second = admin_client.post(run_url("lit"), {"action": "poll"}, follow=True)

    assert queued_source_runs == [("feed.tasks.source_run_task", ("lit", "poll", 10))]
    assert "Poll of lit queued" in first.content.decode()
    assert "already being polled or backfilled" in second.content.decode()
    assert SourceState.objects.get(name="lit").running_action == "poll"


def test_backfill_queues_with_its_page_count_and_bad_input_is_refused(
    admin_client, sources, queued_source_runs
):
    bad = admin_client.post(run_url("lit"), {"action": "backfill", "pages": "0"}, follow=True)
    words = admin_client.post(run_url("lit"), {"action": "backfill", "pages": "ten"}, follow=True)
    unknown = admin_client.post(run_url("nope"), {"action": "poll"}, follow=True)
    odd = admin_client.post(run_url("lit"), {"action": "delete"}, follow=True)
    good = admin_client.post(run_url("lit"), {"action": "backfill", "pages": "3"}, follow=True)

    assert "Pages must be between 1 and 1000" in bad.content.decode()
    assert "Pages must be between 1 and 1000" in words.content.decode()
    assert "unknown source &#x27;nope&#x27;" in unknown.content.decode()
    assert "Unknown action" in odd.content.decode()
    assert "Backfill of 3 pages of lit queued" in good.content.decode()
    assert queued_source_runs == [("feed.tasks.source_run_task", ("lit", "backfill", 3))]
    assert SourceState.objects.get(name="lit").progress == {"pages_done": 0, "pages_total": 3}


@responses.activate
def test_the_queued_poll_runs_records_history_and_frees_the_source(
    admin_client, sources, queued_source_runs, tsundoku_config
):
    tsundoku_config(ingestion={"max_retries": 0})
    responses.get(FEED_URL, body=rss("https://nyaa.test", ("2111533", "ReZero v01")))
    responses.get("https://nyaa.test/view/2111533", body=nyaa_page("nyaa_detail_single_file.html"))
    admin_client.post(run_url("lit"), {"action": "poll"})

    result = source_run_task(*queued_source_runs[0][1])

    state = SourceState.objects.get(name="lit")
    assert (result["new"], result["enriched"]) == (1, 1)
    assert (state.running_action, state.running_since) == ("", None)
    assert state.history[0]["action"] == "poll" and state.history[0]["new"] == 1
    assert state.last_summary["enriched"] == 1
    assert state.progress == {"details_done": 1, "details_total": 1}
    assert admin_client.post(run_url("lit"), {"action": "poll"}).status_code == 302
    assert len(queued_source_runs) == 2


def test_a_claim_is_freed_even_when_the_run_crashes(
    admin_client, sources, queued_source_runs, monkeypatch
):
    admin_client.post(run_url("lit"), {"action": "poll"})

    def explode(source, **options):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("feed.tasks.poll_source", explode)
    with pytest.raises(RuntimeError):
        source_run_task("lit", "poll")

    assert SourceState.objects.get(name="lit").running_action == ""


def test_series_search_is_queued_from_the_series_page(
    admin_client, sources, queued_source_runs, make_series
):
    series = make_series("Frieren", alternate_titles=["Sousou no Frieren"])

    page = admin_client.get(reverse("feed:detail", args=[series.pk])).content.decode()
    response = admin_client.post(reverse("feed:series-search", args=[series.pk]), follow=True)

    assert "Search sources now" in page
    assert queued_source_runs == [("feed.tasks.series_search_task", (series.pk,))]
    assert "Searching 1 source for “Frieren”, “Sousou no Frieren”" in response.content.decode()


@pytest.mark.e2e
def test_a_series_search_ingests_the_results_and_handles_an_empty_search(db, settings, make_series):
    series = make_series("Frieren", alternate_titles=["zzzqqqxxyynothing"])
    with running_nyaa() as site:
        source = SourceConfig(
            kind="nyaa",
            name="local",
            feed_url=f"{site.url}/?page=rss&c=3_1&f=0",
            cron=None,
            enabled=True,
        )
        settings.TSUNDOKU = dataclasses.replace(settings.TSUNDOKU, sources=(source,))
        site.serve("/?c=3_1&f=0&q=Frieren&p=1", nyaa_page("nyaa_search_results.html"))
        site.serve("/?c=3_1&f=0&q=zzzqqqxxyynothing&p=1", nyaa_page("nyaa_search_empty.html"))

        first = series_search_task(series.pk)
        again = series_search_task(series.pk)

    assert (
        site.requests
        == [
            "/?c=3_1&f=0&q=Frieren&p=1",
            "/?c=3_1&f=0&q=zzzqqqxxyynothing&p=1",
        ]
        * 2
    )
    assert (first["local"]["new"], first["local"]["pages"], first["local"]["error"]) == (52, 2, "")
    assert (again["local"]["new"], again["local"]["updated"]) == (0, 0)
    assert Release.objects.count() == 52
    # Ingested like any release: resolved against the catalog, Frieren among it.
    assert Release.objects.filter(series=series).exists()
    assert SourceState.objects.get(name="local").history[0]["action"] == "search"
