"""Resolving releases to series, and the review actions that change a release's link."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from feed.coverage import recompute_coverage
from feed.models import MatchMethod, Release, Resolution, Series
from feed.resolution import (
    Resolver,
    TitleIndex,
    link_release,
    provider_links,
    reject_release,
    retry_releases,
    unlink_release,
)
from feed.spans import parse_spans

_post_ids = count(7000)


@pytest.fixture
def make_release(db):
    """A release stored as a poll would: spans from its title, resolved, coverage recomputed."""

    def build(title: str, *, description: str = "", resolve: bool = True, **fields) -> Release:
        spans = parse_spans(title).to_json()
        release = Release(
            external_id=str(next(_post_ids)),
            source_name="nyaa-test",
            title=title,
            description=description,
            posted_at=fields.pop("posted_at", timezone.now()),
            volume_spans=spans["volumes"],
            chapter_spans=spans["chapters"],
            **fields,
        )
        if resolve:
            Resolver().resolve([release])
        release.save()
        recompute_coverage([release.series_id])
        return release

    return build


def refreshed(series: Series) -> Series:
    series.refresh_from_db()
    return series


# ---- Provider links -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "provider", "external_id"),
    [
        ("https://mangabaka.dev/12345", "mangabaka", "12345"),
        ("https://mangabaka.dev/series/12345", "mangabaka", "12345"),
        ("https://anilist.co/manga/30002/Berserk/", "anilist", "30002"),
        ("https://myanimelist.net/manga/2/Berserk", "mal", "2"),
        ("https://www.mangaupdates.com/series.html?id=88", "mangaupdates", "88"),
        ("https://www.mangaupdates.com/series.html?foo=1&amp;id=88", "mangaupdates", "88"),
        ("https://www.mangaupdates.com/series/njeqwry/berserk", "mangaupdates", "njeqwry"),
        (
            "https://mangadex.org/title/801513BA-A712-498C-8F57-CAE55B38CC92/berserk",
            "mangadex",
            "801513ba-a712-498c-8f57-cae55b38cc92",
        ),
    ],
)
def test_provider_links_are_found_in_a_description(url, provider, external_id):
    links = provider_links(f'<p>Series page: <a href="{url}">here</a></p>')

    assert links[0] == (provider, external_id)


def test_mangaupdates_links_are_tried_in_both_id_forms():
    assert provider_links("https://www.mangaupdates.com/series/hly6oqa") == [
        ("mangaupdates", "hly6oqa"),
        ("mangaupdates", str(int("hly6oqa", 36))),
    ]


def test_other_links_are_not_provider_links():
    assert provider_links("https://nyaa.si/view/2111533 https://anilist.co/anime/1") == []


def test_a_provider_link_wins_over_a_better_title_match(make_series, make_release):
    berserk = make_series("Berserk", anilist="30002")
    make_series("Some Other Series")

    release = make_release(
        "Some Other Series v01",
        description="Wrong title, right link: https://anilist.co/manga/30002",
    )

    assert (release.series, release.resolution) == (berserk, Resolution.RESOLVED)
    assert (release.match_method, release.confidence) == (MatchMethod.PROVIDER_LINK, 1.0)


def test_a_link_is_matched_whatever_the_case_of_the_stored_id(make_series, make_release):
    series = make_series("Chainsaw Man", mangadex="A77742B1-BEFD-49A4-BFF5-1AD4E6B0EF7B")

    release = make_release(
        "CSM v01", description="https://mangadex.org/title/a77742b1-befd-49a4-bff5-1ad4e6b0ef7b"
    )

    assert release.series == series


def test_a_decimal_mangaupdates_id_matches_a_slug_link(make_series, make_release):
    series = make_series("Kingdom", mangaupdates=str(int("1zitx1c", 36)))

    release = make_release("KD v70", description="https://www.mangaupdates.com/series/1zitx1c")

    assert release.series == series


def test_a_link_to_a_series_not_in_the_catalog_falls_back_to_the_title(make_series, make_release):
    series = make_series("Sakura Trick")

    release = make_release(
        "[Lazy Lily] Sakura Trick Volume 03.zip", description="https://anilist.co/manga/999999"
    )

    assert (release.series, release.match_method) == (series, MatchMethod.FUZZY_TITLE)


# ---- Fuzzy titles -------------------------------------------------------------


def test_a_close_title_resolves(make_series, make_release):
    series = make_series("Shingeki no Kyojin")

    release = make_release("Shingeki no Kyoujin v01 (Digital)")

    assert (release.series, release.resolution) == (series, Resolution.RESOLVED)
    assert release.match_method == MatchMethod.FUZZY_TITLE
    assert release.confidence == pytest.approx(0.973, abs=0.001)
    assert release.candidates == []


def test_an_alternate_title_resolves(make_series, make_release):
    series = make_series("Attack on Titan", alternate_titles=["Shingeki no Kyojin"])

    release = make_release("[Group] Shingeki no Kyojin - Chapter 139 [ABCD1234].zip")

    assert release.series == series


def test_a_middling_score_goes_to_review_with_candidates(make_series, make_release):
    haikyuu = make_series("Haikyuu!!")

    release = make_release("Haikyuu-bu!! v01-06 (Digital)")

    assert (release.series, release.resolution) == (None, Resolution.REVIEW_PENDING)
    assert release.confidence == pytest.approx(0.8235, abs=0.0001)
    assert release.candidates == [{"seriesId": haikyuu.id, "title": "Haikyuu!!", "score": 0.8235}]


def test_review_candidates_are_the_best_five_best_first(make_series, make_release):
    made = [make_series(f"Dragon Ball {suffix}") for suffix in "ABCDEFG"]
    make_series("Dragon Ball Super Duper Long Title")

    release = make_release("Dragon Ball v01")

    scores = [candidate["score"] for candidate in release.candidates]
    assert len(release.candidates) == 5
    assert scores == sorted(scores, reverse=True)
    assert {c["seriesId"] for c in release.candidates} <= {s.id for s in made}


def test_a_low_score_stays_unresolved(make_series, make_release):
    make_series("Sakura Trick")

    release = make_release("Golden Kamuy v01-31 (Digital)")

    assert (release.series, release.resolution) == (None, Resolution.UNRESOLVED)
    assert (release.confidence, release.candidates) == (None, [])


def test_two_series_with_the_same_title_go_to_review(make_series, make_release):
    first, second = make_series("Monster"), make_series("Monster")

    release = make_release("Monster v01")

    assert release.resolution == Resolution.REVIEW_PENDING
    assert {c["seriesId"] for c in release.candidates} == {first.id, second.id}


def test_thresholds_come_from_the_configuration(tsundoku_config, make_series, make_release):
    make_series("Shingeki no Kyojin")
    tsundoku_config(ingestion={"resolve_threshold": 0.99, "review_threshold": 0.9})

    release = make_release("Shingeki no Kyoujin v01")

    assert release.resolution == Resolution.REVIEW_PENDING


def test_the_title_index_loads_every_title_in_one_query(make_series, django_assert_num_queries):
    for number in range(30):
        make_series(f"Series {number}", alternate_titles=[f"Alias {number}"])

    with django_assert_num_queries(1):
        index = TitleIndex.build()

    assert len(index.canonical_titles) == 30
    assert len(index.choices) == 60


# ---- Review actions and coverage ----------------------------------------------


def test_linking_resolves_by_hand_and_recomputes_coverage(make_series, make_release):
    series = make_series("Berserk")
    release = make_release("Berzerk Deluxe v01-03", resolve=False)

    link_release(release, series)

    release.refresh_from_db()
    assert (release.series, release.resolution) == (series, Resolution.RESOLVED)
    assert (release.match_method, release.confidence, release.candidates) == (
        MatchMethod.MANUAL,
        1.0,
        [],
    )
    series = refreshed(series)
    assert series.volume_coverage == [[1, 3]]
    assert (series.highest_volume, series.release_count) == (3, 1)


def test_relinking_recomputes_both_the_old_and_the_new_series(make_series, make_release):
    old, new = make_series("Old"), make_series("New")
    release = make_release("Whatever v01-02", resolve=False)
    link_release(release, old)

    link_release(release, new)

    assert (refreshed(old).volume_coverage, refreshed(old).release_count) == ([], 0)
    assert refreshed(new).volume_coverage == [[1, 2]]


def test_rejecting_takes_the_release_off_its_series(make_series, make_release):
    series = make_series("Some Series")
    release = make_release("Some Series v05")
    assert refreshed(series).highest_volume == 5

    reject_release(release)

    release.refresh_from_db()
    assert (release.series, release.resolution, release.match_method) == (
        None,
        Resolution.REJECTED,
        MatchMethod.NONE,
    )
    assert refreshed(series).highest_volume is None


def test_highest_goes_down_when_a_release_is_unlinked(make_series, make_release):
    series = make_series("Some Series")
    make_release("Some Series v01-05")
    newest = make_release("Some Series v06")
    link_release(newest, series)
    assert refreshed(series).highest_volume == 6

    unlink_release(newest)

    newest.refresh_from_db()
    assert (newest.series, newest.resolution) == (None, Resolution.UNRESOLVED)
    series = refreshed(series)
    assert series.highest_volume == 5
    assert series.volume_coverage == [[1, 5]]


def test_updated_at_moves_only_when_coverage_changes(make_series, make_release):
    long_ago = timezone.now() - timedelta(days=30)
    series = make_series("Some Series", updated_at=long_ago)
    first = make_release("Some Series v01", resolve=False)
    duplicate = make_release("Some Series v01 (another scan)", resolve=False)

    link_release(first, series)
    after_first = refreshed(series).updated_at
    link_release(duplicate, series)
    after_duplicate = refreshed(series)

    assert after_first > long_ago
    assert after_duplicate.updated_at == after_first
    assert after_duplicate.release_count == 2


# ---- Retry --------------------------------------------------------------------


def test_retry_resolves_what_the_catalog_now_knows_and_leaves_decisions_alone(
    make_series, make_release
):
    waiting = make_release("Sakura Trick Volume 03")
    near_miss = make_release("Haikyuu-bu!! v01-06")
    rejected = make_release("Sakura Trick Volume 04")
    reject_release(rejected)
    assert waiting.resolution == Resolution.UNRESOLVED
    sakura_trick, haikyuu = make_series("Sakura Trick"), make_series("Haikyuu!!")

    summary = retry_releases()

    assert (summary.examined, summary.resolved, summary.queued_for_review) == (2, 1, 1)
    waiting.refresh_from_db()
    near_miss.refresh_from_db()
    rejected.refresh_from_db()
    assert (waiting.series, waiting.match_method) == (sakura_trick, MatchMethod.FUZZY_TITLE)
    assert near_miss.candidates[0]["seriesId"] == haikyuu.id
    assert rejected.resolution == Resolution.REJECTED
    assert refreshed(sakura_trick).volume_coverage == [[3, 3]]


def test_retry_can_be_limited_to_some_releases(make_series, make_release):
    included = make_release("Sakura Trick Volume 01")
    excluded = make_release("Sakura Trick Volume 02")
    make_series("Sakura Trick")

    summary = retry_releases(Release.objects.filter(pk=included.pk))

    assert summary.examined == 1
    excluded.refresh_from_db()
    assert excluded.resolution == Resolution.UNRESOLVED


def test_retry_costs_the_same_few_queries_for_many_releases(
    make_series, make_release, django_assert_max_num_queries
):
    for number in range(60):
        make_release(f"Some Series c{number:03d}")
    make_series("Some Series")

    # Pending ids, one batch, the title index, provider ids, bulk update, coverage.
    with django_assert_max_num_queries(12):
        summary = retry_releases()

    assert summary.resolved == 60
