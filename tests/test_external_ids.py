"""MangaUpdates' two spellings of one id are one id; other providers compare verbatim."""

from __future__ import annotations

from feed.external_ids import canonical_external_id, mangaupdates_forms

SLUG = "hly6oqa"
DECIMAL = str(int(SLUG, 36))


def test_both_forms_of_a_mangaupdates_id_come_back_decimal_first():
    assert mangaupdates_forms(SLUG) == (DECIMAL, SLUG)
    assert mangaupdates_forms(DECIMAL) == (DECIMAL, SLUG)
    assert mangaupdates_forms(SLUG.upper()) == (DECIMAL, SLUG)


def test_canonical_form_is_decimal_for_mangaupdates_and_verbatim_elsewhere():
    assert canonical_external_id("mangaupdates", f" {SLUG} ") == DECIMAL
    assert canonical_external_id("mangaupdates", "0042") == "42"
    assert canonical_external_id("anilist", " 030002 ") == "030002"


def test_one_alias_map_serves_the_api_and_codex_sources():
    from codex_sync.matching import normalize_source
    from feed.external_ids import normalize_provider

    assert normalize_provider(" MyAnimeList ") == "mal"
    assert normalize_provider("anime-planet") == "anime_planet"
    assert normalize_provider("comicinfo") is None
    assert normalize_source("plugin:metadata-mangabaka") == "mangabaka"
    assert normalize_source("api:animenewsnetwork") == "anime_news_network"
    assert normalize_source("manual") is None
