"""Volume/chapter span parsing and merging (SPEC §4.3), without Django."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from defusedxml import ElementTree
from hypothesis import given
from hypothesis import strategies as st

from feed.sources.nyaa_html import parse_listing
from feed.spans import ParsedSpans, Span, highest, merge_spans, parse_spans

NYAA_SAMPLE = Path(__file__).resolve().parent / "fixtures" / "nyaa" / "nyaa_rss_sample.xml"


def spans_of(title: str) -> tuple[list[Span], list[Span]]:
    parsed = parse_spans(title)
    return parsed.volumes, parsed.chapters


@pytest.mark.parametrize(
    ("title", "volumes", "chapters"),
    [
        ("Some Series v01-05 (Digital).cbz", [(1, 5)], []),
        ("Series chapter 10.5", [], [(10.5, 10.5)]),
        ("Series v01-03 c001-050", [(1, 3)], [(1, 50)]),
        ("Berserk (2016) Deluxe", [], []),
        ("[Doki] Hitoribocchi no OO Seikatsu - Chapter 90 [C0045813].zip", [], [(90, 90)]),
        ("One Piece v001-111 + 1134-1176 (2003-2026)", [(1, 111)], [(1134, 1176)]),
        ("Series v01-04 + v06-09", [(1, 4), (6, 9)], []),
    ],
)
def test_spec_examples_parse_as_documented(title, volumes, chapters):
    assert spans_of(title) == (volumes, chapters)


@pytest.mark.parametrize(
    ("title", "volumes"),
    [
        ("Series v007", [(7, 7)]),
        ("Series Vol.3", [(3, 3)]),
        ("Series Vol 03", [(3, 3)]),
        ("Series Vol. 03", [(3, 3)]),
        ("Series VOLUME 12", [(12, 12)]),
        ("Series v2.5", [(2.5, 2.5)]),
        ("Series v1-v5", [(1, 5)]),
        ("Series v01–05", [(1, 5)]),
        ("Series Vol.01-Vol.05", [(1, 5)]),
        ("Series v18 - v22", [(18, 22)]),
        ("Series Volumes 1 - 7", [(1, 7)]),
        ("Series Vols 2-4", [(2, 4)]),
        ("Series v05-01", [(1, 5)]),
        ("Series v01-04 v05-08", [(1, 8)]),
        ("Some_Series_v03_c012.cbz", [(3, 3)]),
    ],
)
def test_volume_markers_are_read(title, volumes):
    assert parse_spans(title).volumes == volumes


@pytest.mark.parametrize(
    ("title", "chapters"),
    [
        ("Series Ch.12.5", [(12.5, 12.5)]),
        ("Series ch 7", [(7, 7)]),
        ("Series chap. 3", [(3, 3)]),
        ("Series Chaps 3-4", [(3, 4)]),
        ("Series #12", [(12, 12)]),
        ("Series Chapters 1-10", [(1, 10)]),
        ("Series Chapters 1 - 10", [(1, 10)]),
        ("Series c001-050", [(1, 50)]),
        ("Series c10 - c12", [(10, 12)]),
        ("Series - Chapter 98v2", [(98, 98)]),
    ],
)
def test_chapter_markers_are_read(title, chapters):
    assert parse_spans(title).chapters == chapters


@pytest.mark.parametrize(
    "title",
    [
        "Mob Psycho 100",
        "Berserk 1989-2021",
        "Series Parts 1-198",
        "Comic 5",
        "Disc 2",
        "Vampire 3",
        "Chronicle 4",
        "Kabe ni Mary.com",
        "Series (v01-05) [c001-050]",
    ],
)
def test_bare_numbers_and_words_starting_with_markers_never_count(title):
    assert parse_spans(title) == ParsedSpans(volumes=[], chapters=[])


def test_spaced_hyphen_without_repeated_prefix_ends_the_range():
    assert parse_spans("Series v18 - 22 Extras").volumes == [(18, 18)]


def test_file_extension_is_harmless():
    assert spans_of("Series v01.cbz") == ([(1, 1)], [])
    assert spans_of("Series c05.5.zip") == ([], [(5.5, 5.5)])


def test_file_names_are_merged_with_the_title():
    parsed = parse_spans(
        "Series (Digital)", ["Series v01.cbz", "Series v02.cbz", "Series v04 c030.cbz"]
    )

    assert parsed.volumes == [(1, 2), (4, 4)]
    assert parsed.chapters == [(30, 30)]


def test_to_json_writes_whole_numbers_as_ints_and_fractions_as_floats():
    parsed = parse_spans("Series v01-03 c10.5")

    payload = parsed.to_json()

    assert payload == {"volumes": [[1, 3]], "chapters": [[10.5, 10.5]]}
    assert all(type(n) is int for n in payload["volumes"][0])
    assert all(type(n) is float for n in payload["chapters"][0])


def test_merge_keeps_real_gaps_and_joins_touching_spans():
    assert merge_spans([(6, 9), (1, 4)]) == [(1, 4), (6, 9)]
    assert merge_spans([(5, 9), (1, 4)]) == [(1, 9)]
    assert merge_spans([(1, 10), (10.5, 10.5)]) == [(1, 10.5)]
    assert merge_spans([]) == []


def test_highest_is_the_largest_end_or_none():
    assert highest([(1, 4), (6, 9)]) == 9
    assert highest([(10.5, 10.5)]) == 10.5
    assert highest([]) is None


# Real titles from the Nyaa RSS sample, pinned.
@pytest.mark.parametrize(
    ("title", "volumes", "chapters"),
    [
        (
            "ReZero - Starting Life in Another World - Volume 01 [MTBBooks] | "
            "Re:Zero Kara Hajimeru Isekai Seikatsu | Re Zero",
            [(1, 1)],
            [],
        ),
        (
            "Story About Buying My Classmate Once a Week / Shuu ni Ichido Kurasumeito wo "
            "Kau Hanashi (WN), Volumes 1 - 7, Parts 1-198",
            [(1, 7)],
            [],
        ),
        ("[Lazy Lily] Sakura Trick Volume 03.zip", [(3, 3)], []),
        (
            "Summertime Rendering 2026 - The Room that Dreams of Murder - c001-002 "
            "(OneShot) (web) [MANGA Plus].zip",
            [],
            [(1, 2)],
        ),
        ("[MANGA Plus] Summertime Rendering (Summer Time Render) (Complete)", [], []),
        ("Is the order a rabbit? Vol. 01 [Kobo][Sol Press].epub", [(1, 1)], []),
        (
            "[Doki] Isyuzoku Joshi ni OO Suru Hanashi - Chapter 14.5 [850F2B60].zip",
            [],
            [(14.5, 14.5)],
        ),
        ("Kabe ni Mary.com (2015) [Doki]", [], []),
        ("[Doki] Kabe ni Mary.com - Volume 02 [B5F8E465].zip", [(2, 2)], []),
        ("[Doki] New Game! - Chapter 98v2 [9C8582AA].zip", [], [(98, 98)]),
        ("Blissful Land (Tenju no Kuni) v04 (Amazon)", [(4, 4)], []),
        ("Golden Warrior Iczer-One", [], []),
        ("[TSP] Tsundere Service Providers - Torrent Super Pack", [], []),
    ],
)
def test_real_nyaa_titles_parse_sensibly(title, volumes, chapters):
    assert spans_of(title) == (volumes, chapters)


def nyaa_sample_titles() -> list[str]:
    root = ElementTree.parse(NYAA_SAMPLE).getroot()
    return [item.findtext("title") for item in root.iter("item")]


def test_every_title_in_the_nyaa_sample_parses():
    titles = nyaa_sample_titles()

    assert len(titles) == 75
    for title in titles:
        parsed = parse_spans(title)
        for start, end in parsed.volumes + parsed.chapters:
            assert start <= end, title
        if " - Chapter " in title:
            assert parsed.chapters and not parsed.volumes, title


# Property tests. Spans use whole and half numbers, as real titles do.
numbers = st.integers(min_value=0, max_value=400).map(lambda n: n / 2)
span_lists = st.lists(st.tuples(numbers, numbers), max_size=30)


def ordered(spans: list[Span]) -> list[Span]:
    return [(min(span), max(span)) for span in spans]


@given(span_lists)
def test_merging_twice_changes_nothing(spans):
    merged = merge_spans(spans)

    assert merge_spans(merged) == merged


@given(st.data(), span_lists)
def test_merging_ignores_input_order(data, spans):
    shuffled = data.draw(st.permutations(spans))

    assert merge_spans(shuffled) == merge_spans(spans)


@given(span_lists)
def test_merging_never_loses_a_number(spans):
    merged = merge_spans(spans)

    for start, end in ordered(spans):
        assert any(low <= start and end <= high for low, high in merged)


@given(span_lists)
def test_merged_spans_are_sorted_and_separated_by_real_gaps(spans):
    merged = merge_spans(spans)

    assert all(start <= end for start, end in merged)
    for (_, previous_end), (next_start, _) in pairwise(merged):
        assert next_start > previous_end + 1


@given(span_lists)
def test_merging_covers_nothing_beyond_the_input(spans):
    merged = merge_spans(spans)
    starts = {start for start, _ in ordered(spans)}
    ends = {end for _, end in ordered(spans)}

    assert all(start in starts and end in ends for start, end in merged)


@given(span_lists)
def test_merging_keeps_the_highest_number(spans):
    assert highest(merge_spans(spans)) == highest(spans)


@given(st.text())
def test_any_text_parses_to_ordered_spans(text):
    parsed = parse_spans(text)

    for spans in (parsed.volumes, parsed.chapters):
        assert spans == merge_spans(spans)


@given(st.integers(min_value=0, max_value=9999))
def test_bare_numbers_in_a_title_never_count(number):
    assert parse_spans(f"Mob Psycho {number} ({number})") == ParsedSpans(volumes=[], chapters=[])


@given(st.integers(min_value=0, max_value=999), st.integers(min_value=0, max_value=999))
def test_zero_padded_volume_ranges_read_back_as_numbers(first, last):
    parsed = parse_spans(f"Series v{first:03d}-{last:02d} (Digital)")

    assert parsed.volumes == [(min(first, last), max(first, last))]


# Real titles from the listing and search reference pages, and the kind of
# special or anthology title that used to read as a range up to a year.
@pytest.mark.parametrize(
    ("title", "volumes", "chapters"),
    [
        ("Frieren - (Chapters 141-147)", [], [(141, 147)]),
        ("Sousou no Frieren | Frieren - Beyond Journey's End Vol.10 - Vol.11", [(10, 11)], []),
        (
            "Sousou no Frieren | Frieren - Beyond Journey's End v01-14 + 138-147 "
            "(2021-2026) (Digital) (1r0n)",
            [(1, 14)],
            [(138, 147)],
        ),
        ("Frieren Beyond Journey's End v01-09 and Chapters 88-99 (Ongoing)", [(1, 9)], [(88, 99)]),
        ("Sousou no Frieren CH001-140 Mangadex-RIP", [], [(1, 140)]),
        ("[Doki] Swap-Swap - Chapter 40v2 [30367A94].zip", [], [(40, 40)]),
        # A marker glued to a number is a suffix ("98v2"), so "c007" after "v01" is not read.
        ("honoka_lv_up_v01c007[FPS].zip", [(1, 1)], []),
        ("Panty and Stocking with Garterbelt TPB (2015 Dark Horse Digest)", [], []),
        ("[Sollyz] 1 Baht 1 Love", [], []),
        ("Witch Hat Atelier Chapter 5 - 2019 Special", [], [(5, 5)]),
        ("Berserk Volume 41 - 1989 Edition", [(41, 41)], []),
        ("Anthology Vol 2 - 2000 Years Later", [(2, 2)], []),
        ("Chapter 3 - 300 Yen Girl", [], [(3, 3)]),
        ("Series v01-2019", [(1, 1)], []),
        ("Series Volumes 1 - 7", [(1, 7)], []),
        ("One Piece Chapter 1000 - 1010", [], [(1000, 1010)]),
        ("Kaiju No. 8 Chapter 1 - 2.5", [], [(1, 2.5)]),
    ],
)
def test_real_titles_read_plausible_ranges(title, volumes, chapters):
    assert spans_of(title) == (volumes, chapters)


def reference_listing_titles() -> list[str]:
    titles = []
    for name in ("nyaa_listing_page2.html", "nyaa_search_results.html"):
        page = (NYAA_SAMPLE.parent / name).read_bytes()
        titles += [item.title for item in parse_listing(page, page_url="https://nyaa.si/").items]
    return titles


def test_no_title_in_the_reference_pages_reads_an_implausible_range():
    titles = reference_listing_titles()

    assert len(titles) == 75 + 52
    for title in titles:
        parsed = parse_spans(title)
        for start, end in parsed.volumes + parsed.chapters:
            assert start <= end < 1000, title


@given(
    st.sampled_from(["Chapter", "Volume", "Vol.", "Chapters"]),
    st.integers(min_value=0, max_value=999),
    st.integers(min_value=1900, max_value=2099),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
)
def test_a_spaced_dash_then_a_year_and_a_word_is_never_a_range(marker, number, year, word):
    parsed = parse_spans(f"Series {marker} {number} - {year} {word.title()}")

    assert parsed.volumes + parsed.chapters == [(number, number)]
