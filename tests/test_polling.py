"""Polling one source: the request it sends, retries, failures, and idempotent upserts."""

from __future__ import annotations

import pytest
import requests
import responses
from responses import matchers

from feed.models import MatchMethod, Release, Resolution, SourceState
from feed.polling import PollSummary, ingest_document, poll_source
from feed.resolution import link_release
from tests.helpers import nyaa_rss
from tsundoku.config import SourceConfig
from tsundoku.http import USER_AGENT

FEED_URL = "https://nyaa.test/?page=rss&c=3_1"
SOURCE = SourceConfig(
    kind="nyaa", name="nyaa-test", feed_url=FEED_URL, cron=None, enabled=True, detail_pages=False
)

SAKURA_TRICK_03 = "1706640"  # "[Lazy Lily] Sakura Trick Volume 03.zip" in the sample


@pytest.fixture
def ingestion(tsundoku_config):
    tsundoku_config(ingestion={"timeout_seconds": 7.5, "max_retries": 2})


@responses.activate
def test_a_poll_sends_our_user_agent_and_the_configured_timeout(db, ingestion, nyaa_sample):
    responses.get(
        FEED_URL,
        body=nyaa_sample,
        content_type="application/rss+xml",
        match=[
            matchers.header_matcher({"User-Agent": USER_AGENT}),
            matchers.query_param_matcher({"page": "rss", "c": "3_1"}),
        ],
    )

    summary = poll_source(SOURCE)

    assert summary == PollSummary(fetched=75, new=75)
    (call,) = responses.calls
    assert call.request.headers["User-Agent"].startswith("tsundoku/")
    assert "application/rss+xml" in call.request.headers["Accept"]
    assert call.request.req_kwargs["timeout"] == 7.5
    assert Release.objects.count() == 75


@responses.activate
def test_a_rate_limited_poll_is_retried_after_retry_after(db, ingestion, nyaa_sample):
    responses.get(FEED_URL, status=429, headers={"Retry-After": "0"})
    responses.get(FEED_URL, body=nyaa_sample)

    summary = poll_source(SOURCE)

    assert summary.ok
    assert summary.new == 75
    assert [call.response.status_code for call in responses.calls] == [429, 200]


@responses.activate
def test_a_failing_feed_records_the_error_and_changes_nothing(db, ingestion, nyaa_sample):
    ingest_document(nyaa_sample, source_name=SOURCE.name)
    before = list(Release.objects.order_by("id").values())
    responses.get(FEED_URL, status=503)

    summary = poll_source(SOURCE)

    assert not summary.ok
    assert summary.error == f"{FEED_URL} answered HTTP 503 Service Unavailable"
    assert len(responses.calls) == 3  # the first try and two retries
    assert list(Release.objects.order_by("id").values()) == before
    state = SourceState.objects.get(name=SOURCE.name)
    assert state.last_error == summary.error
    assert state.last_polled_at is not None
    assert state.last_success_at is None


@responses.activate
def test_an_unreachable_feed_is_reported_without_raising(db, ingestion):
    responses.get(FEED_URL, body=requests.ConnectionError("refused"))

    summary = poll_source(SOURCE)

    assert summary.error == f"could not reach {FEED_URL}: connection failed"
    assert SourceState.objects.get(name=SOURCE.name).last_error == summary.error
    assert not Release.objects.exists()


@responses.activate
def test_an_oversized_response_is_refused(db, ingestion, monkeypatch, nyaa_sample):
    monkeypatch.setattr("feed.sources.nyaa.MAX_FEED_BYTES", 4096)
    responses.get(FEED_URL, body=nyaa_sample)

    summary = poll_source(SOURCE)

    assert summary.error == f"{FEED_URL} sent more than 4,096 bytes; not a feed page"
    assert not Release.objects.exists()


@responses.activate
def test_a_malformed_document_records_the_error_and_changes_nothing(db, ingestion):
    responses.get(FEED_URL, body=b"<html>maintenance</html>")

    summary = poll_source(SOURCE)

    assert summary.error == "not an RSS document (root element <html>)"
    assert not Release.objects.exists()


@responses.activate
def test_a_successful_poll_records_its_summary_and_clears_the_last_error(db, ingestion):
    SourceState.objects.create(name=SOURCE.name, last_error="earlier outage")
    responses.get(FEED_URL, body=nyaa_rss(("1", "Some Series v01", "1 MiB")))

    poll_source(SOURCE)

    state = SourceState.objects.get(name=SOURCE.name)
    assert state.last_error == ""
    assert state.last_success_at is not None
    assert state.last_summary == PollSummary(fetched=1, new=1).as_dict()


def test_ingesting_stores_source_fields_and_spans(db):
    ingest_document(
        nyaa_rss(("77", "Some Series v01-05 c010 (Digital).cbz", "1.5 GiB")), source_name="s"
    )

    release = Release.objects.get()
    assert (release.source_kind, release.external_id, release.source_name) == ("nyaa", "77", "s")
    assert release.post_url == "https://nyaa.si/view/77"
    assert release.torrent_url == "https://nyaa.si/download/77.torrent"
    assert release.size_bytes == int(1.5 * 1024**3)
    assert release.magnet.startswith(f"magnet:?xt=urn:btih:{'77':0>40}&dn=Some%20Series")
    assert (release.volume_spans, release.chapter_spans) == ([[1, 5]], [[10, 10]])


def test_new_releases_are_resolved_and_counted(db, make_series, nyaa_sample):
    sakura_trick = make_series("Sakura Trick")

    summary = ingest_document(nyaa_sample, source_name=SOURCE.name)

    assert summary.resolved == 3  # volumes 01, 02 and 03
    linked = Release.objects.filter(series=sakura_trick)
    assert linked.count() == 3
    assert set(linked.values_list("match_method", flat=True)) == {MatchMethod.FUZZY_TITLE}
    sakura_trick.refresh_from_db()
    assert sakura_trick.volume_coverage == [[1, 3]]
    assert sakura_trick.release_count == 3


def test_re_polling_is_idempotent_and_keeps_the_resolution(db, make_series, nyaa_sample):
    chosen = make_series("Golden Warrior Iczer-One Collection")
    ingest_document(nyaa_sample, source_name=SOURCE.name)
    release = Release.objects.get(title="Golden Warrior Iczer-One")
    link_release(release, chosen)

    summary = ingest_document(nyaa_sample, source_name=SOURCE.name)

    assert summary == PollSummary(fetched=75)
    release.refresh_from_db()
    assert (release.series, release.resolution) == (chosen, Resolution.RESOLVED)
    assert release.match_method == MatchMethod.MANUAL
    assert Release.objects.count() == 75


def test_re_polling_updates_source_fields_and_the_linked_series_coverage(db, make_series):
    series = make_series("Some Series")
    ingest_document(nyaa_rss(("9", "Some Series v01", "1 MiB")), source_name="first")
    release = Release.objects.get()
    assert release.series == series
    observed_at = release.observed_at

    summary = ingest_document(
        nyaa_rss(("9", "Some Series v01-02 (fixed)", "2 MiB")), source_name="second"
    )

    assert (summary.new, summary.updated) == (0, 1)
    release.refresh_from_db()
    assert release.title == "Some Series v01-02 (fixed)"
    assert release.size_bytes == 2 * 1024**2
    assert release.volume_spans == [[1, 2]]
    # Who found the post first and when stay as they were; so does the link.
    assert (release.source_name, release.observed_at) == ("first", observed_at)
    assert (release.series, release.resolution) == (series, Resolution.RESOLVED)
    series.refresh_from_db()
    assert series.volume_coverage == [[1, 2]]
    assert series.highest_volume == 2


def test_a_post_listed_twice_in_one_document_is_stored_once(db):
    summary = ingest_document(
        nyaa_rss(("5", "Some Series v01", "1 MiB"), ("5", "Some Series v01", "1 MiB")),
        source_name="s",
    )

    assert (summary.fetched, summary.new) == (2, 1)
    assert Release.objects.count() == 1


def test_malformed_items_are_counted_as_skipped(db):
    document = nyaa_rss(("1", "Good v01", "1 MiB"), ("2", "Bad size v01", "lots"))

    summary = ingest_document(document, source_name="s")

    assert (summary.fetched, summary.new, summary.skipped) == (2, 1, 1)


def test_a_poll_uses_a_fixed_number_of_queries(
    db, make_series, nyaa_sample, django_assert_max_num_queries
):
    for title in ("Sakura Trick", "New Game!", "Hitoribocchi no OO Seikatsu"):
        make_series(title)

    # Existing releases, the title index, provider ids, insert, coverage: not per release.
    with django_assert_max_num_queries(12):
        summary = ingest_document(nyaa_sample, source_name=SOURCE.name)

    assert summary.new == 75
    assert summary.resolved > 20
