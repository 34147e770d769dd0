"""`manage.py seed_synthetic`: a realistic, deterministic catalog with consistent coverage."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from devtools.synthetic import has_matchable_ids, synthetic_catalog_ids
from feed.coverage import recompute_coverage
from feed.models import ExternalId, Release, Resolution, Series, SeriesKind
from feed.search import filter_by_query
from feed.spans import parse_spans

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_synthetic", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_requested_numbers_of_rows():
    output = seed("--series", "60", "--releases", "400")

    assert Series.objects.count() == 60
    assert Release.objects.count() == 400
    assert "Created 60 series, 95 external ids and 400 releases in" in output


def test_external_ids_follow_the_documented_scheme():
    seed("--series", "12", "--releases", "0")
    first = Series.objects.order_by("id").first().id

    pairs = set(ExternalId.objects.values_list("series_id", "provider", "external_id"))

    for k in range(1, 13):
        series_id = first + k - 1
        assert (series_id, "mangabaka", str(100000 + k)) in pairs
        assert ((series_id, "anilist", str(200000 + k)) in pairs) == (k % 3 == 0)
        assert ((series_id, "mal", str(300000 + k)) in pairs) == (k % 4 == 0)


def test_stored_coverage_is_what_recomputing_would_give():
    seed("--series", "40", "--releases", "600")

    assert recompute_coverage(Series.objects.values_list("id", flat=True)) == 0
    linked = Series.objects.filter(release_count__gt=0)
    assert linked.exists()
    assert all(series.last_release_at for series in linked)


def test_release_titles_parse_back_to_their_stored_spans():
    seed("--series", "30", "--releases", "300")

    for release in Release.objects.all():
        parsed = parse_spans(release.title).to_json()
        assert (parsed["volumes"], parsed["chapters"]) == (
            release.volume_spans,
            release.chapter_spans,
        )


def test_the_catalog_looks_like_a_real_one():
    seed("--series", "200", "--releases", "2000")

    assert Series.objects.values("kind").distinct().count() >= 4
    assert Series.objects.filter(kind=SeriesKind.MANGA).count() > 60
    assert Release.objects.filter(resolution=Resolution.REVIEW_PENDING).exists()
    assert Release.objects.filter(resolution=Resolution.UNRESOLVED, series=None).exists()
    series = Series.objects.exclude(alternate_titles=[]).first()
    word = series.alternate_titles[0].split()[-1]
    assert series in filter_by_query(Series.objects.all(), word)


def test_the_same_seed_gives_the_same_catalog():
    seed("--series", "20", "--releases", "50", "--seed", "7")
    first = list(Series.objects.order_by("id").values_list("canonical_title", "year"))

    seed("--series", "20", "--releases", "50", "--seed", "7", "--clear")

    assert list(Series.objects.order_by("id").values_list("canonical_title", "year")) == first
    assert Series.objects.count() == 20


def test_seeding_twice_without_clear_is_refused():
    seed("--series", "5", "--releases", "5")

    with pytest.raises(CommandError, match="run again with --clear"):
        seed("--series", "5", "--releases", "5")


def test_releases_need_series():
    with pytest.raises(CommandError, match="releases need series"):
        seed("--series", "0", "--releases", "5")


def test_the_catalog_carries_the_ids_the_synthetic_codex_library_gives_the_same_series():
    seed("--series", "30", "--releases", "0")
    first = Series.objects.order_by("id").first().id
    by_series: dict[int, set] = {}
    for series_id, provider, external_id in ExternalId.objects.values_list(
        "series_id", "provider", "external_id"
    ):
        by_series.setdefault(series_id - first + 1, set()).add((provider, external_id))

    for k, pairs in by_series.items():
        library_side = set(synthetic_catalog_ids(k))
        if has_matchable_ids(k):
            assert pairs <= library_side
            assert library_side - pairs <= {("mangaupdates", str(30_000_000_000 + k))}
        else:
            assert not library_side
