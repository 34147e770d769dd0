"""Backfill: walking a source's listing pages back in time, idempotently, stopping on errors."""

from __future__ import annotations

import dataclasses
from io import StringIO

import pytest
import responses
from django.core.management import CommandError, call_command

from feed.listing import backfill_source, listing_url
from feed.models import Release, SourceState
from tests.nyaa_helpers import nyaa_page, running_nyaa
from tsundoku.config import SourceConfig

LISTING = "nyaa_listing_page2.html"  # 75 rows, a next link
LAST_PAGE = "nyaa_search_results.html"  # 52 other rows, no next link


def source_at(base_url: str) -> SourceConfig:
    return SourceConfig(
        kind="nyaa",
        name="local",
        feed_url=f"{base_url}/?page=rss&c=3_1&f=2",
        cron=None,
        enabled=True,
    )


@pytest.fixture
def configure_sources(settings):
    def configure(*sources: SourceConfig) -> None:
        settings.TSUNDOKU = dataclasses.replace(settings.TSUNDOKU, sources=sources)

    return configure


def test_the_listing_url_is_the_feed_without_page_rss():
    source = source_at("https://nyaa.si")

    assert source.listing_url == "https://nyaa.si/?c=3_1&f=2"
    assert listing_url(source, p=3) == "https://nyaa.si/?c=3_1&f=2&p=3"
    assert listing_url(source, q="Witch Hat", p=1) == "https://nyaa.si/?c=3_1&f=2&q=Witch+Hat&p=1"


@pytest.mark.e2e
def test_backfill_ingests_the_75_rows_once_and_a_re_run_adds_nothing(db, configure_sources):
    with running_nyaa() as site:
        source = source_at(site.url)
        configure_sources(source)
        site.serve("/?c=3_1&f=2&p=1", nyaa_page(LISTING))
        out = StringIO()

        call_command("backfill", "--source", "local", "--pages", "1", stdout=out)
        first = dict(Release.objects.values_list("external_id", "observed_at"))
        call_command("backfill", "--source", "local", "--pages", "1", stdout=StringIO())

    assert len(first) == 75
    assert Release.objects.count() == 75
    assert dict(Release.objects.values_list("external_id", "observed_at")) == first
    assert site.requests == ["/?c=3_1&f=2&p=1"] * 2
    assert all(accept.startswith("text/html") for accept in site.accepts)
    assert "page 1 (1/1): 75 new, 0 updated so far" in out.getvalue()
    assert "local: fetched 75, new 75" in out.getvalue()
    mary = Release.objects.get(external_id="1180952")
    assert mary.title == "[Doki] Kabe ni Mary.com - Chapter 11 [0EEBD9D9].zip"
    assert (mary.size_bytes, mary.downloads, mary.trusted) == (15309209, 188, True)
    assert mary.chapter_spans == [[11, 11]]
    history = SourceState.objects.get(name="local").history
    assert [run["action"] for run in history] == ["backfill", "backfill"]
    assert [(run["new"], run["pages"]) for run in history] == [(0, 1), (75, 1)]


@pytest.mark.e2e
def test_backfill_walks_pages_until_the_last_one(db):
    with running_nyaa() as site:
        site.serve("/?c=3_1&f=2&p=1", nyaa_page(LISTING))
        site.serve("/?c=3_1&f=2&p=2", nyaa_page(LAST_PAGE))
        progress = []

        summary = backfill_source(
            source_at(site.url),
            pages=5,
            progress=lambda done, so_far: progress.append((done, so_far.new)),
        )

    assert (summary.pages, summary.new, summary.ok) == (2, 75 + 52, True)
    assert progress == [(1, 75), (2, 127)]
    assert site.requests == ["/?c=3_1&f=2&p=1", "/?c=3_1&f=2&p=2"]


@responses.activate
def test_a_failing_page_stops_the_walk_and_keeps_the_pages_before_it(
    db, configure_sources, tsundoku_config
):
    tsundoku_config(ingestion={"max_retries": 0})
    source = source_at("https://nyaa.test")
    configure_sources(source)
    responses.get("https://nyaa.test/?c=3_1&f=2&p=1", body=nyaa_page(LISTING))
    responses.get("https://nyaa.test/?c=3_1&f=2&p=2", status=500)

    with pytest.raises(CommandError, match=r"page 2: .* answered HTTP 500"):
        call_command("backfill", "--source", "local", "--pages", "4", stdout=StringIO())

    assert Release.objects.count() == 75
    assert [call.request.url for call in responses.calls] == [
        "https://nyaa.test/?c=3_1&f=2&p=1",
        "https://nyaa.test/?c=3_1&f=2&p=2",
    ]
    run = SourceState.objects.get(name="local").history[0]
    assert (run["action"], run["pages"], run["new"]) == ("backfill", 1, 75)
    assert run["error"].startswith("page 2: ")


def test_backfill_refuses_unknown_sources_and_bad_page_counts(db, configure_sources):
    configure_sources(source_at("https://nyaa.test"))

    with pytest.raises(CommandError, match="unknown source 'nope'"):
        call_command("backfill", "--source", "nope", "--pages", "1")
    with pytest.raises(CommandError, match="--pages must be between 1 and 1000"):
        call_command("backfill", "--source", "local", "--pages", "0")
