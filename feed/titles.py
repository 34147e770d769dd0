"""Title cleaning for fuzzy matching releases to series (SPEC §4.4).

A Nyaa title carries much more than the series name: group tags, CRCs, years,
volume and chapter numbers, a file extension, and often several names for the
same series. `clean_title` reduces a title to the words of the name, and
`title_candidates` returns one cleaned name per variant, so the matcher can
score each against the catalog's canonical and alternate titles.
"""

from __future__ import annotations

import re
import unicodedata

from feed.spans import CHAPTER_SPAN_RE, FILE_EXTENSION_RE, VOLUME_SPAN_RE, strip_bracket_groups

# Uploaders list a series' other names after "|" ("ReZero - ... | Re:Zero Kara
# Hajimeru Isekai Seikatsu | Re Zero"), or after a spaced "/". A tight "/"
# belongs to the name itself ("Fate/Zero"), so only the spaced one splits.
_NAME_SEPARATOR_RE = re.compile(r"\s*\|\s*|\s+/\s+")

# "Hell's Paradise" and "Hells Paradise" are the same title; an apostrophe
# turned into a space would split a word in two instead.
_APOSTROPHE_RE = re.compile(r"['’`]")

# Official titles use a multiplication sign where uploaders type an "x":
# "SPY×FAMILY" is posted as "Spy x Family", "Hunter×Hunter" as "Hunter x Hunter".
_MULTIPLICATION_SIGN = "\u00d7"

# Everything that is not a letter or digit separates words, "_" included.
_PUNCTUATION_RE = re.compile(r"[\W_]+")

# Only the Latin combining diacritics (é, ü, ō). Japanese voicing marks are
# combining characters too, but dropping them would turn が into か.
_LATIN_DIACRITIC_RE = re.compile("[\u0300-\u036f]")


def fold_text(text: str) -> str:
    """Case-, width- and accent-folded text with single spaces: the form searches compare."""
    return " ".join(_strip_accents(unicodedata.normalize("NFKC", text or "")).casefold().split())


def clean_title(text: str) -> str:
    """Reduce a title to lower-case words of the series name, for fuzzy matching."""
    text = unicodedata.normalize("NFKC", text)
    text = FILE_EXTENSION_RE.sub("", strip_bracket_groups(text))
    text = _cut_at_release_marker(text)
    text = _strip_accents(text.replace(_MULTIPLICATION_SIGN, " x "))
    text = _PUNCTUATION_RE.sub(" ", _APOSTROPHE_RE.sub("", text))
    return " ".join(text.casefold().split())


def title_candidates(raw: str) -> list[str]:
    """Return the cleaned whole title and each cleaned name variant, unique and non-empty."""
    # Brackets go before the split so a group such as "(A | B)" never straddles two parts.
    without_brackets = strip_bracket_groups(unicodedata.normalize("NFKC", raw))
    variants = [without_brackets, *_NAME_SEPARATOR_RE.split(without_brackets)]
    cleaned = (clean_title(variant) for variant in variants)
    return list(dict.fromkeys(name for name in cleaned if name))


def _cut_at_release_marker(text: str) -> str:
    # What follows a volume or chapter marker is release detail ("Volume 01",
    # "v001-111 + 1134-1176", "Volumes 1 - 7, Parts 1-198"), never the name.
    # A marker with no words before it is the name itself ("C3 - Cube x Cursed").
    markers = [*VOLUME_SPAN_RE.finditer(text), *CHAPTER_SPAN_RE.finditer(text)]
    cut_points = [match.start() for match in markers if _has_words(text[: match.start()])]
    return text[: min(cut_points)] if cut_points else text


def _has_words(text: str) -> bool:
    return _PUNCTUATION_RE.sub("", text) != ""


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _LATIN_DIACRITIC_RE.sub("", decomposed))
