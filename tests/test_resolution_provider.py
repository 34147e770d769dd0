"""Resolution with a metadata provider: releases for unknown series create them."""

from __future__ import annotations

from datetime import date
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feed.catalog import refresh_series, upsert_from_metadata
from feed.models import ExternalId, MatchMethod, Release, Resolution, Series, SeriesOrigin
from feed.polling import ingest_document
from feed.resolution import Resolver, retry_releases
from tests.fakes import FakeProvider, metadata

_post_ids = count(91000)

CHAINSAW_MAN = metadata(
    "1677",
    "Chainsaw Man",
    native_title="チェンソーマン",
    romanized_title="Chainsaw Man",
    alternate_titles=("CSM",),
    kind="manga",
    status="ongoing",
    year=2018,
    published_start=date(2018, 12, 3),
    description="Denji hunts devils to pay off a debt.",
    cover_url="https://cdn.mangabaka.dev/imgproxy/plain/x350@2/abc",
    genres=("action", "horror"),
    tags=("Devils",),
    total_volumes=24,
    total_chapters=232,
    rating=8.5,
    foreign_ids={"anilist": "105778", "mal": "116778", "mangaupdates": "ylx5wzn"},
)
SOLO_LEVELING = metadata(
    "3397",
    "Solo Leveling",
    native_title="나 혼자만 레벨업",
    romanized_title="Na Honjaman Level Up",
    kind="manhwa",
    status="completed",
    foreign_ids={"anilist": "105398", "mangaupdates": "6z1uqw7", "mal": "121496"},
)


def release(title: str, description: str = "") -> Release:
    return Release(
        external_id=str(next(_post_ids)),
        source_name="nyaa-test",
        title=title,
        description=description,
        posted_at=timezone.now(),
    )


@pytest.fixture
def provider(monkeypatch) -> FakeProvider:
    """The fake provider, also answering `active_provider()` for polls and retries."""
    fake = FakeProvider(records=[CHAINSAW_MAN, SOLO_LEVELING])
    monkeypatch.setattr("feed.resolution.active_provider", lambda: fake)
    return fake


def test_a_title_only_the_provider_knows_creates_the_series_with_its_metadata(db, provider):
    item = release("Chainsaw Man v01-16 (2020-2024) (Digital) (1r0n)")
    Resolver().resolve([item])

    series = Series.objects.get()
    assert item.series_id == series.pk
    assert (item.resolution, item.match_method, item.confidence) == (
        Resolution.RESOLVED,
        MatchMethod.PROVIDER_TITLE,
        1.0,
    )
    assert series.canonical_title == "Chainsaw Man"
    assert series.native_title == "チェンソーマン"
    assert "CSM" in series.alternate_titles and "チェンソーマン" in series.alternate_titles
    assert (series.kind, series.status, series.year) == ("manga", "ongoing", 2018)
    assert series.published_start == date(2018, 12, 3)
    assert (series.total_volumes, series.total_chapters, series.rating) == (24, 232, 8.5)
    assert series.genres == ["action", "horror"] and series.tags == ["Devils"]
    assert series.cover_url.endswith("/abc")
    assert series.origin == SeriesOrigin.PROVIDER
    assert series.metadata_hash == CHAINSAW_MAN.content_hash
    assert set(series.external_ids.values_list("provider", "external_id")) == {
        ("mangabaka", "1677"),
        ("anilist", "105778"),
        ("mal", "116778"),
        ("mangaupdates", "ylx5wzn"),
    }


def test_chapters_of_one_new_series_create_it_once_and_ask_the_provider_once(db, provider):
    items = [release(f"[Group] Chainsaw Man - Chapter {n} [ABCD1234].zip") for n in (1, 2, 3)]
    summary = Resolver().resolve(items)

    assert summary.resolved == 3
    assert Series.objects.count() == 1
    assert {item.series_id for item in items} == {Series.objects.get().pk}
    assert [call[0] for call in provider.calls].count("search") == 1


def test_a_link_missing_from_the_catalog_is_looked_up_at_the_provider(db, provider):
    item = release("Some Oddly Named Pack", "Series: https://anilist.co/manga/105398")
    Resolver().resolve([item])

    assert item.match_method == MatchMethod.PROVIDER_LOOKUP
    assert item.series.canonical_title == "Solo Leveling"
    assert ("find_by_foreign_id", "anilist", "105398") in provider.calls


def test_a_mangabaka_link_is_fetched_by_its_own_id(db, provider):
    item = release("Pack", "Info: https://mangabaka.org/manga/1677/Chainsaw-Man")
    Resolver().resolve([item])

    assert ("get", "1677") in provider.calls
    assert item.series.canonical_title == "Chainsaw Man"


def test_a_release_resolves_to_an_existing_series_by_a_cross_id_without_a_duplicate(
    db, provider, make_series
):
    # The catalog holds the MangaUpdates id in its decimal spelling, nothing else.
    existing = make_series("Denji Hunts Devils", mangaupdates=str(int("ylx5wzn", 36)))
    item = release("Chainsaw Man v17 (Digital)")
    Resolver().resolve([item])

    assert Series.objects.count() == 1
    assert item.series_id == existing.pk
    existing.refresh_from_db()
    # Curated import: its title stays, blanks are filled, the missing ids are added.
    assert existing.canonical_title == "Denji Hunts Devils"
    assert existing.total_volumes == 24
    assert existing.external_ids.filter(provider="mangabaka", external_id="1677").exists()


def test_two_provider_series_sharing_an_anilist_id_stay_two(db):
    first = upsert_from_metadata(metadata("10", "Twin A", foreign_ids={"anilist": "5"})).series
    second = upsert_from_metadata(metadata("11", "Twin B", foreign_ids={"anilist": "5"})).series

    assert first.pk != second.pk
    # The shared id stays with the series that had it first.
    assert ExternalId.objects.get(provider="anilist", external_id="5").series_id == first.pk


def test_a_loose_title_goes_to_review_with_provider_candidates(db, provider, make_series):
    make_series("Chainsaw Manual")
    item = release("Chainsawman Colored v01-03 (Digital)")
    Resolver().resolve([item])

    assert item.resolution == Resolution.REVIEW_PENDING
    provider_candidate = next(c for c in item.candidates if c["seriesId"] is None)
    assert provider_candidate["provider"] == "mangabaka"
    assert provider_candidate["externalId"] == "1677"
    assert provider_candidate["title"] == "Chainsaw Man"
    assert 0.55 <= provider_candidate["score"] < 0.85
    assert Series.objects.count() == 1  # candidates are not created until picked


def test_a_failing_provider_leaves_the_release_unresolved_and_a_retry_resolves_it(db, provider):
    provider.failing = True
    item = release("Solo Leveling v01-08 (Digital)")
    Resolver().resolve([item])
    item.save()
    assert item.resolution == Resolution.UNRESOLVED
    assert not Series.objects.exists()

    provider.failing = False
    summary = retry_releases()

    item.refresh_from_db()
    assert summary.resolved == 1
    assert item.series.canonical_title == "Solo Leveling"


def test_without_a_provider_nothing_is_created(db):
    item = release("Chainsaw Man v01 (Digital)")
    Resolver(provider=None).resolve([item])

    assert item.resolution == Resolution.UNRESOLVED
    assert not Series.objects.exists()


def test_a_series_edited_by_hand_is_never_overwritten(db):
    series = upsert_from_metadata(CHAINSAW_MAN).series
    Series.objects.filter(pk=series.pk).update(
        canonical_title="Chainsaw Man (my title)", metadata_locked=True
    )
    changed = metadata("1677", "Chainsaw Man", total_volumes=25, foreign_ids={"kitsu": "54139"})

    upsert_from_metadata(changed)
    refresh_series([changed])

    series.refresh_from_db()
    assert series.canonical_title == "Chainsaw Man (my title)"
    assert series.total_volumes == 24
    # Cross ids are not metadata: a new one is still added.
    assert series.external_ids.filter(provider="kitsu", external_id="54139").exists()


def test_a_refresh_rewrites_only_series_whose_record_changed(db):
    series = upsert_from_metadata(CHAINSAW_MAN).series
    upsert_from_metadata(SOLO_LEVELING)
    moved = metadata("1677", "Chainsaw Man", total_volumes=25, foreign_ids={})

    updated, unchanged = refresh_series([moved, SOLO_LEVELING])

    assert (updated, unchanged) == (1, 1)
    series.refresh_from_db()
    assert series.total_volumes == 25


def test_a_poll_creates_series_and_its_query_count_does_not_grow_with_items(db, provider):
    def feed(posts: list[int]) -> bytes:
        items = "".join(
            f"<item><title>[G] Chainsaw Man - Chapter {post} [AB12CD34].zip</title>"
            f"<link>https://nyaa.si/download/{post}.torrent</link>"
            f"<guid>https://nyaa.si/view/{post}</guid>"
            "<pubDate>Mon, 18 May 2026 23:34:56 -0000</pubDate>"
            f"<nyaa:infoHash>{post:0>40}</nyaa:infoHash><nyaa:size>1 MiB</nyaa:size></item>"
            for post in posts
        )
        return (
            '<rss xmlns:nyaa="https://nyaa.si/xmlns/nyaa" version="2.0"><channel>'
            f"{items}</channel></rss>"
        ).encode()

    with CaptureQueriesContext(connection) as small:
        first = ingest_document(feed(list(range(100, 105))), source_name="nyaa-test")
    Series.objects.all().delete()
    Release.objects.all().delete()
    with CaptureQueriesContext(connection) as large:
        # 25 rows fit one SQLite INSERT (999 variables / the release's columns).
        second = ingest_document(feed(list(range(200, 225))), source_name="nyaa-test")

    assert (first.resolved, second.resolved) == (5, 25)
    assert Series.objects.count() == 1
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_feed_lists_discovered_series_and_the_whole_catalog_on_request(
    db, api_client, make_series
):
    make_series("Imported Without Releases")
    upsert_from_metadata(metadata("20", "Provider Without Releases"))
    upsert_from_metadata(metadata("21", "Added By The Admin"), origin=SeriesOrigin.ADDED)

    def titles(params: str) -> set[str]:
        response = api_client.get(f"/api/v1/series{params}")
        assert response.status_code == 200
        return {item["canonicalTitle"] for item in response.json()["items"]}

    assert titles("") == {"Imported Without Releases", "Added By The Admin"}
    assert titles("?scope=all") == {
        "Imported Without Releases",
        "Added By The Admin",
        "Provider Without Releases",
    }
    # The API refuses an unknown scope (it used to list the default silently).
    refused = api_client.get("/api/v1/series?scope=nonsense")
    assert refused.status_code == 400
    assert "scope" in refused.json()["message"]


def test_a_provider_refresh_rewrites_moved_series_and_keeps_unknown_ones(db):
    from feed.catalog import refresh_from_provider

    chainsaw = upsert_from_metadata(CHAINSAW_MAN).series
    solo = upsert_from_metadata(SOLO_LEVELING).series
    moved = metadata("1677", "Chainsaw Man", total_volumes=25, foreign_ids={})
    # Solo Leveling vanished upstream: its stored metadata stays.
    updated, unchanged = refresh_from_provider(FakeProvider(records=[moved]))

    assert (updated, unchanged) == (1, 0)
    chainsaw.refresh_from_db()
    solo.refresh_from_db()
    assert chainsaw.total_volumes == 25
    assert solo.canonical_title == "Solo Leveling" and solo.native_title == "나 혼자만 레벨업"


def test_editing_a_series_in_the_django_admin_locks_its_metadata(admin_client):
    series = upsert_from_metadata(CHAINSAW_MAN).series
    change_url = f"/admin/feed/series/{series.pk}/change/"
    form = admin_client.get(change_url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name in form.fields
    }
    data.update(
        {
            "canonical_title": "Chainsaw Man (my edit)",
            "alternate_titles": "[]",
            "genres": "[]",
            "tags": "[]",
            "external_ids-TOTAL_FORMS": "0",
            "external_ids-INITIAL_FORMS": "0",
        }
    )
    response = admin_client.post(change_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    series.refresh_from_db()
    assert series.canonical_title == "Chainsaw Man (my edit)"
    assert series.metadata_locked
    refresh_series([metadata("1677", "Chainsaw Man", total_volumes=30)])
    series.refresh_from_db()
    assert series.canonical_title == "Chainsaw Man (my edit)"


def test_a_mangadex_link_is_not_asked_of_the_provider(db, provider):
    item = release(
        "Zzz Unknown Pack", "https://mangadex.org/title/a77742b1-befd-49a4-bff5-1ad4e6b0ef7b"
    )
    Resolver().resolve([item])

    assert not any(call[0] in ("get", "find_by_foreign_id") for call in provider.calls)


def test_a_batch_creates_its_new_series_together_and_shared_cross_ids_stay_with_the_first(
    db, monkeypatch
):
    twin_a = metadata("30", "Twin Stars Alpha", foreign_ids={"anilist": "77"})
    twin_b = metadata("31", "Twin Stars Beta", foreign_ids={"anilist": "77"})
    fake = FakeProvider(records=[twin_a, twin_b])
    items = [release("Twin Stars Alpha v01"), release("Twin Stars Beta v01")]

    with CaptureQueriesContext(connection) as captured:
        Resolver(provider=fake).resolve(items)

    alpha, beta = (
        Series.objects.get(canonical_title=t) for t in ("Twin Stars Alpha", "Twin Stars Beta")
    )
    assert [item.series_id for item in items] == [alpha.pk, beta.pk]
    assert ExternalId.objects.get(provider="anilist", external_id="77").series_id == alpha.pk
    assert beta.external_ids.filter(provider="mangabaka", external_id="31").exists()
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 2  # one for the series, one for their external ids


def test_retrying_writes_every_resolution_field(db, provider, make_series):
    from feed.resolution import RESOLUTION_FIELDS
    from tsundoku.db import update_rows

    series = make_series("Kept Series")
    item = release("Anything")
    item.save()
    item.series_id, item.resolution, item.match_method = series.pk, Resolution.RESOLVED, "manual"
    item.confidence, item.candidates = 0.5, [{"seriesId": series.pk, "title": "x", "score": 0.5}]
    update_rows([item], RESOLUTION_FIELDS)

    stored = Release.objects.get(pk=item.pk)
    assert (stored.series_id, stored.resolution, stored.match_method, stored.confidence) == (
        series.pk,
        "resolved",
        "manual",
        0.5,
    )
    assert stored.candidates == [{"seriesId": series.pk, "title": "x", "score": 0.5}]


def test_case_folded_id_lookups_use_the_expression_index(db):
    from django.db.models.functions import Lower

    if connection.vendor != "sqlite":
        pytest.skip("the plan text checked here is SQLite's")
    plan = (
        ExternalId.objects.annotate(folded_id=Lower("external_id"))
        .filter(provider="anilist", folded_id__in=["1", "2"])
        .explain()
    )
    assert "external_id_folded_idx" in plan
