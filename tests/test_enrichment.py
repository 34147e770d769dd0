"""Detail-page enrichment: files, formats and the Information link, feeding resolution."""

from __future__ import annotations

from unittest.mock import patch

import pytest
import responses

from feed.enrichment import enrich_source, pace_host
from feed.models import MatchMethod, Release, Resolution
from feed.polling import PollSummary, ingest_document, poll_source
from feed.resolution import link_release
from tests.fakes import FakeProvider, metadata
from tests.nyaa_helpers import nyaa_page, rss, running_nyaa
from tsundoku.config import SourceConfig
from tsundoku.http import USER_AGENT, HostRateLimiter

BASE = "https://nyaa.test"
FEED_URL = f"{BASE}/?page=rss&c=3_1"
SOURCE = SourceConfig(kind="nyaa", name="nyaa-test", feed_url=FEED_URL, cron=None, enabled=True)
ODD_JOBBER = "2167316"  # Information row → mangabaka.org/manga/65050
ODD_JOBBER_TITLE = (
    "A Banished Odd-jobber Starts a New Life 001-058 as v01-10 (Digital-Compilation) (Anon) [0x1e]"
)
REZERO = "2111533"
INFORMATION_PAGE = "nyaa_detail_information_mangabaka.html"
ODD_JOBBER_FILE = "A Banished Odd-jobber Starts a New Life"
# Known to the provider under a title the release's does not match: only the
# Information link's exact id can find it.
BANISHED = metadata("65050", "Tsuihou Sareta Zatsuyou-gakari")


@pytest.fixture
def provider(monkeypatch) -> FakeProvider:
    fake = FakeProvider(records=[BANISHED])
    monkeypatch.setattr("feed.resolution.active_provider", lambda: fake)
    return fake


@pytest.fixture
def no_retries(tsundoku_config):
    tsundoku_config(ingestion={"max_retries": 0, "min_request_gap_ms": 0})


@responses.activate
def test_a_poll_reads_each_new_post_once_and_resolves_by_the_information_link(
    db, provider, no_retries
):
    responses.get(FEED_URL, body=rss(BASE, (ODD_JOBBER, ODD_JOBBER_TITLE), (REZERO, "ReZero v01")))
    responses.get(
        f"{BASE}/view/{ODD_JOBBER}", body=nyaa_page("nyaa_detail_information_mangabaka.html")
    )
    responses.get(f"{BASE}/view/{REZERO}", body=nyaa_page("nyaa_detail_single_file.html"))

    summary = poll_source(SOURCE)

    assert (summary.new, summary.enriched, summary.detail_failed) == (2, 2, 0)
    assert summary.resolved == 1  # only the page with a MangaBaka link; ReZero stays unresolved
    detail_calls = [call for call in responses.calls if "/view/" in call.request.url]
    assert [call.request.method for call in detail_calls] == ["GET", "GET"]
    for call in detail_calls:
        assert call.request.headers["User-Agent"] == USER_AGENT
        assert call.request.headers["Accept"].startswith("text/html")
    odd_jobber = Release.objects.get(external_id=ODD_JOBBER)
    assert odd_jobber.information_url == (
        "https://mangabaka.org/manga/65050/A-Banished-Odd-jobber-Starts-a-New-Life"
    )
    assert odd_jobber.formats == ["cbz"]
    assert len(odd_jobber.files) == 10
    assert odd_jobber.files[0] == {
        "name": f"{ODD_JOBBER_FILE} v01 (Digital-Compilation) (Anon) [0x1e].cbz",
        "size_bytes": int(137.1 * 1024**2),
    }
    assert (odd_jobber.resolution, odd_jobber.match_method) == (
        Resolution.RESOLVED,
        MatchMethod.PROVIDER_LOOKUP,
    )
    assert odd_jobber.series.external_ids.get(provider="mangabaka").external_id == "65050"
    assert ("get", "65050") in provider.calls
    rezero = Release.objects.get(external_id=REZERO)
    assert rezero.information_url == "https://discord.gg/r9gyPwJeqW"
    assert rezero.formats == ["epub"]
    assert rezero.detail_attempts == 1
    # The RSS's own fields are not overwritten by the page's (captured at another moment).
    assert rezero.title == "ReZero v01"

    responses.calls.reset()
    again = poll_source(SOURCE)

    assert (again.new, again.enriched) == (0, 0)
    assert [call.request.url for call in responses.calls] == [FEED_URL]


@responses.activate
def test_a_failed_detail_page_leaves_the_release_as_the_rss_gave_it_and_is_retried(
    db, provider, no_retries
):
    responses.get(FEED_URL, body=rss(BASE, (ODD_JOBBER, ODD_JOBBER_TITLE)))
    responses.get(f"{BASE}/view/{ODD_JOBBER}", status=503)

    first = poll_source(SOURCE)

    assert (first.ok, first.new, first.enriched, first.detail_failed) == (True, 1, 0, 1)
    release = Release.objects.get(external_id=ODD_JOBBER)
    assert (release.detail_fetched_at, release.files, release.information_url) == (None, [], "")
    assert release.detail_attempts == 1
    assert "503" in release.detail_error
    assert release.title == ODD_JOBBER_TITLE

    responses.replace(
        responses.GET,
        f"{BASE}/view/{ODD_JOBBER}",
        body=nyaa_page("nyaa_detail_information_mangabaka.html"),
    )
    second = poll_source(SOURCE)

    release.refresh_from_db()
    assert (second.enriched, second.detail_failed) == (1, 0)
    assert (release.detail_attempts, release.detail_error) == (2, "")
    assert release.match_method == MatchMethod.PROVIDER_LOOKUP


@responses.activate
def test_a_page_failing_every_attempt_is_given_up_after_the_configured_count(db, tsundoku_config):
    tsundoku_config(ingestion={"max_retries": 0, "detail_max_attempts": 2})
    ingest_document(rss(BASE, (ODD_JOBBER, ODD_JOBBER_TITLE)), source_name=SOURCE.name)
    responses.get(f"{BASE}/view/{ODD_JOBBER}", body=b"<html><p>Cloudflare</p></html>")

    outcomes = [enrich_source(SOURCE) for _ in range(3)]

    assert [outcome.failed for outcome in outcomes] == [1, 1, 0]
    assert len(responses.calls) == 2
    release = Release.objects.get(external_id=ODD_JOBBER)
    assert release.detail_attempts == 2
    assert "not a Nyaa detail page" in release.detail_error


@responses.activate
def test_an_exact_link_overrules_a_title_guess_but_not_a_manual_link(
    db, provider, no_retries, make_series
):
    guessed = make_series("A Banished Odd-jobber Starts a New Life (another)")
    ingest_document(
        rss(BASE, (ODD_JOBBER, ODD_JOBBER_TITLE), ("2167317", ODD_JOBBER_TITLE)),
        source_name=SOURCE.name,
    )
    Release.objects.filter(external_id=ODD_JOBBER).update(
        series=guessed, resolution=Resolution.RESOLVED, match_method=MatchMethod.FUZZY_TITLE
    )
    link_release(Release.objects.get(external_id="2167317"), guessed)
    page = nyaa_page("nyaa_detail_information_mangabaka.html")
    responses.get(f"{BASE}/view/{ODD_JOBBER}", body=page)
    responses.get(f"{BASE}/view/2167317", body=page)

    summary = enrich_source(SOURCE)

    assert summary.enriched == 2
    relinked = Release.objects.get(external_id=ODD_JOBBER)
    manual = Release.objects.get(external_id="2167317")
    assert relinked.series_id != guessed.id
    assert relinked.match_method == MatchMethod.PROVIDER_LOOKUP
    assert (manual.series_id, manual.match_method) == (guessed.id, MatchMethod.MANUAL)
    guessed.refresh_from_db()
    assert guessed.release_count == 1


@responses.activate
def test_a_source_with_detail_pages_off_reads_only_the_feed(db, no_retries):
    responses.get(FEED_URL, body=rss(BASE, (ODD_JOBBER, ODD_JOBBER_TITLE)))
    source = SourceConfig(
        kind="nyaa", name="off", feed_url=FEED_URL, cron=None, enabled=True, detail_pages=False
    )

    assert poll_source(source) == PollSummary(fetched=1, new=1)
    assert len(responses.calls) == 1


@pytest.mark.e2e
def test_a_poll_against_a_local_nyaa_enriches_every_new_release(db, provider, no_retries):
    with running_nyaa() as site:
        site.serve_detail_pages()
        site.serve(
            "/rss?page=rss",
            rss(
                site.url,
                (REZERO, "ReZero v01"),
                ("1505969", "[TSP] Tsundere Service Providers - Torrent Super Pack"),
                (ODD_JOBBER, ODD_JOBBER_TITLE),
            ),
        )
        source = SourceConfig(
            kind="nyaa", name="local", feed_url=f"{site.url}/rss?page=rss", cron=None, enabled=True
        )

        summary = poll_source(source)

    assert (summary.new, summary.enriched, summary.detail_failed) == (3, 3, 0)
    assert sorted(site.requests) == sorted(
        ["/rss?page=rss", f"/view/{REZERO}", "/view/1505969", f"/view/{ODD_JOBBER}"]
    )
    assert all(accept.startswith("text/html") for accept in site.accepts[1:])
    files = dict(Release.objects.values_list("external_id", "files"))
    assert [len(files[post]) for post in (REZERO, "1505969", ODD_JOBBER)] == [1, 537, 10]
    assert Release.objects.get(external_id="1505969").formats == ["rar", "zip"]
    assert Release.objects.get(external_id=ODD_JOBBER).match_method == MatchMethod.PROVIDER_LOOKUP


@responses.activate
def test_the_configured_gap_and_concurrency_apply_to_the_source_host(db, tsundoku_config):
    tsundoku_config(ingestion={"min_request_gap_ms": 1500, "max_connections_per_host": 1})
    limiter = HostRateLimiter()
    responses.get(FEED_URL, body=rss(BASE))
    source = SourceConfig(
        kind="nyaa", name="paced", feed_url=FEED_URL, cron=None, enabled=True, detail_pages=False
    )

    with (
        patch("feed.enrichment.HOST_LIMITER", limiter),
        patch("tsundoku.http.HOST_LIMITER", limiter),
    ):
        pace_host(FEED_URL)

    assert (limiter.min_gap("nyaa.test"), limiter.max_concurrency("nyaa.test")) == (1.5, 1)
    assert limiter.min_gap("api.mangabaka.org") == 0.0
    assert poll_source(source).ok
