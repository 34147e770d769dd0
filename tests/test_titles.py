"""Title cleaning for fuzzy matching (SPEC §4.4), without Django."""

from __future__ import annotations

import pytest

from feed.titles import clean_title, title_candidates


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("[Lazy Lily] Sakura Trick Volume 03.zip", "sakura trick"),
        (
            "[Doki] Hitoribocchi no OO Seikatsu - Chapter 90 [C0045813].zip",
            "hitoribocchi no oo seikatsu",
        ),
        ("Some Series v01-05 (Digital).cbz", "some series"),
        ("One Piece v001-111 + 1134-1176 (2003-2026)", "one piece"),
        ("Is the order a rabbit? Vol. 01 [Kobo][Sol Press].epub", "is the order a rabbit"),
        ("Blissful Land (Tenju no Kuni) v04 (Amazon)", "blissful land"),
        ("[Doki] New Game! - Chapter 98v2 [9C8582AA].zip", "new game"),
        ("Kabe ni Mary.com (2015) [Doki]", "kabe ni mary com"),
        ("Golden Warrior Iczer-One", "golden warrior iczer one"),
        ("Mob Psycho 100", "mob psycho 100"),
        ("Vampire Knight", "vampire knight"),
        ("Series.pdf", "series"),
        ("Series.7z", "series"),
        ("Series.rar", "series"),
        ("Series.cbr", "series"),
        ("Series.mkv", "series"),
    ],
)
def test_clean_title_keeps_only_the_series_name(raw, cleaned):
    assert clean_title(raw) == cleaned


def test_clean_title_folds_case_accents_and_width():
    assert clean_title("Pokémon ÀDVENTURES") == "pokemon adventures"
    assert clean_title("ＳＡＫＵＲＡ　ＴＲＩＣＫ") == "sakura trick"


def test_clean_title_reads_a_multiplication_sign_as_x():
    assert clean_title("SPY×FAMILY") == clean_title("Spy x Family") == "spy x family"


def test_clean_title_drops_apostrophes_without_splitting_words():
    assert clean_title("Hell's Paradise") == clean_title("Hell’s Paradise") == "hells paradise"


def test_clean_title_keeps_japanese_voicing_marks():
    assert clean_title("がっこうぐらし!") == "がっこうぐらし"


def test_clean_title_collapses_whitespace():
    assert clean_title("  Sakura   Trick \t ") == "sakura trick"


def test_clean_title_keeps_a_marker_that_is_the_whole_name():
    assert clean_title("C3 - Cube x Cursed x Curious") == "c3 cube x cursed x curious"


def test_title_candidates_return_the_whole_and_each_name():
    raw = (
        "ReZero - Starting Life in Another World - Volume 01 [MTBBooks] | "
        "Re:Zero Kara Hajimeru Isekai Seikatsu | Re Zero"
    )

    assert title_candidates(raw) == [
        "rezero starting life in another world",
        "re zero kara hajimeru isekai seikatsu",
        "re zero",
    ]


def test_title_candidates_split_on_a_spaced_slash():
    raw = (
        "Story About Buying My Classmate Once a Week / Shuu ni Ichido Kurasumeito wo "
        "Kau Hanashi (WN), Volumes 1 - 7, Parts 1-198"
    )

    assert title_candidates(raw) == [
        "story about buying my classmate once a week shuu ni ichido kurasumeito wo kau hanashi",
        "story about buying my classmate once a week",
        "shuu ni ichido kurasumeito wo kau hanashi",
    ]


def test_title_candidates_keep_a_tight_slash_inside_a_name():
    assert title_candidates("Fate/Zero v01") == ["fate zero"]


def test_title_candidates_ignore_separators_inside_brackets():
    assert title_candidates("Sakura Trick (A | B) v01") == ["sakura trick"]


def test_title_candidates_drop_empty_names():
    assert title_candidates("[Doki] | (2015) | Sakura Trick") == ["sakura trick"]
    assert title_candidates("") == []
