"""Seeders, leechers, downloads, trusted and remake: kept from the RSS, refreshed, shown, sorted."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse

from feed.models import Release, Resolution
from feed.polling import ingest_document

REZERO = "2111533"  # the sample's first item: 39 seeders, 368 downloads, trusted


def test_the_rss_quality_fields_are_stored(db, nyaa_sample):
    ingest_document(nyaa_sample, source_name="nyaa-test")

    release = Release.objects.get(external_id=REZERO)
    assert (release.seeders, release.leechers, release.downloads) == (39, 0, 368)
    assert (release.trusted, release.remake) == (True, False)
    assert Release.objects.filter(trusted=True, remake=False).count() == 75


def test_a_re_poll_refreshes_the_counts_and_flags(db, nyaa_sample):
    ingest_document(nyaa_sample, source_name="nyaa-test")
    later = (
        nyaa_sample.replace(
            b"<nyaa:seeders>39</nyaa:seeders>", b"<nyaa:seeders>41</nyaa:seeders>", 1
        )
        .replace(
            b"<nyaa:downloads>368</nyaa:downloads>", b"<nyaa:downloads>400</nyaa:downloads>", 1
        )
        .replace(b"<nyaa:remake>No</nyaa:remake>", b"<nyaa:remake>Yes</nyaa:remake>", 1)
    )

    summary = ingest_document(later, source_name="nyaa-test")

    release = Release.objects.get(external_id=REZERO)
    assert (summary.new, summary.updated) == (0, 1)
    assert (release.seeders, release.downloads, release.remake) == (41, 400, True)


def test_a_count_that_is_not_a_number_skips_only_its_item(db, nyaa_sample):
    broken = nyaa_sample.replace(
        b"<nyaa:seeders>39</nyaa:seeders>", b"<nyaa:seeders>lots</nyaa:seeders>", 1
    )

    summary = ingest_document(broken, source_name="nyaa-test")

    assert (summary.new, summary.skipped) == (74, 1)
    assert not Release.objects.filter(external_id=REZERO).exists()


def test_the_series_page_shows_quality_and_lists_useful_releases_first(
    db, client, make_series, django_assert_max_num_queries
):
    series = make_series("Berserk")
    posted = datetime(2026, 1, 1, tzinfo=UTC)

    def release(post: str, **fields) -> Release:
        return Release.objects.create(
            external_id=post,
            source_name="nyaa-test",
            title=f"Berserk v{post}",
            post_url=f"https://nyaa.si/view/{post}",
            series=series,
            resolution=Resolution.RESOLVED,
            posted_at=posted,
            **fields,
        )

    release("01", seeders=0, leechers=0, downloads=10, trusted=True)
    release("02", seeders=55, leechers=4, downloads=1234, trusted=True)
    release("03", seeders=99, leechers=1, downloads=7, remake=True)

    with django_assert_max_num_queries(12):
        html = client.get(reverse("feed:detail", args=[series.pk])).content.decode()

    order = [html.index(f">Berserk v{post}</a>") for post in ("02", "01", "03")]
    assert order == sorted(order)
    assert (
        '55</span> / <span title="Leechers">4</span> / <span title="Completed downloads">1,234'
        in html
    )
    assert "Remake</span>" in html
    assert html.count("Trusted</span>") == 2
