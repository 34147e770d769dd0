"""Volume and chapter spans read from a release title (SPEC §4.3).

Nyaa titles are free text typed by uploaders, so a number only counts when an
explicit marker names its axis: `v01-05`, `Vol. 3`, `Chapter 90`, `#12`. Bare
numbers are series names (`Mob Psycho 100`) or years far more often than they
are volumes, so they never count on their own.

The parser runs one step per rule: strip bracket groups, strip the file
extension, read volume spans, read the chapters that follow volumes after a
`+`, read chapter spans, then merge each axis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

Span = tuple[float, float]

# Group tags, years, CRCs and edition notes all live in brackets: "[Doki]",
# "(2016)", "[C0045813]", "(Digital)". A CRC such as "C0045813" would otherwise
# read as chapter 45813. Innermost groups match first, so nested ones go too.
BRACKET_GROUP_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")

# ...except a group that opens with a spelled-out marker and a number, which
# is the release's own span: "Frieren - (Chapters 141-147)", "[Vol. 3]".
SPAN_GROUP_RE = re.compile(
    r"^[(\[]\s*(?:volumes|volume|vols|vol|chapters|chapter|chaps|chap|ch)\.?\s*[0-9]",
    re.IGNORECASE,
)

# A range whose end is a year and whose start is not (v01-2019, "Chapter 3-1999")
# is a number followed by a date, not two thousand volumes.
YEAR_LIKE = range(1900, 2100)
MAX_START_BEFORE_YEAR = 1000

# Archive and ebook suffixes on titles and file names: ".cbz" starts with a "c"
# and should never be mistaken for anything, so it goes before any scan.
FILE_EXTENSION_RE = re.compile(r"\.(?:cbz|cbr|zip|rar|epub|pdf|7z|mkv)\s*$", re.IGNORECASE)

# Leading zeros are fine (`v007` is 7) and decimals mark extras (`10.5`).
# ASCII digits only: `\d` would also accept other scripts' digits. The group is
# atomic so a failed range never backtracks "123" into "12".
_NUMBER = r"(?>[0-9]+(?:\.[0-9]+)?)"

# Longest first, so "volumes" is not read as "v" followed by junk.
_VOLUME_MARKERS = r"volumes|volume|vols|vol|v"
_CHAPTER_MARKERS = r"chapters|chapter|chaps|chap|ch|c|\#"

# Spelled or abbreviated words, as opposed to single letters and "#". Only these
# may start a range with a spaced hyphen and a bare end ("Volumes 1 - 7").
_VOLUME_KEYWORDS = r"volumes|volume|vols|vol"
_CHAPTER_KEYWORDS = r"chapters|chapter|chaps|chap|ch"


def _marker_span_pattern(markers: str, keywords: str) -> re.Pattern[str]:
    """Compile the span pattern for one axis from its markers and keywords."""
    return re.compile(
        rf"""
        # No letter or digit right before the marker: "Comic", "Disc", "Vampire"
        # and the revision tag in "Chapter 98v2" must not count. A lookbehind
        # rather than \b so that "#12" works, and one that lets "_" through
        # because file names use it as a space ("Series_v01_c001.cbz").
        (?<![^\W_])
        (?:
            # "Volumes 1 - 7": keyword, space, number, hyphen, bare number; but
            # not when a word follows the end, which makes it the start of a
            # title: "Chapter 5 - 2019 Special", "Vol 2 - 300 Yen Girl".
            (?:{keywords})\.?\s+(?P<keyword_start>{_NUMBER})
            \s*[-–]\s*(?P<keyword_end>{_NUMBER})(?!\s*[^\W\d_])
          |
            (?:{markers})\.?\s*(?P<start>{_NUMBER})
            (?:
                (?:
                    # Tight hyphen or en-dash, prefix optional: "v01-05", "v1-v5".
                    [-–](?:(?:{markers})\.?\s*)?
                    # Spaced hyphen only when the end repeats a prefix: "v18 - v22".
                    # "Series v05 - 12 Days" is volume 5 of a title with a number.
                  | \s*[-–]\s*(?:{markers})\.?\s*
                )
                (?P<end>{_NUMBER})
            )?
        )
        """,
        re.IGNORECASE | re.VERBOSE,
    )


VOLUME_SPAN_RE = _marker_span_pattern(_VOLUME_MARKERS, _VOLUME_KEYWORDS)
CHAPTER_SPAN_RE = _marker_span_pattern(_CHAPTER_MARKERS, _CHAPTER_KEYWORDS)

# Omnibus uploads list the volumes, then the loose chapters published since:
# "One Piece v001-111 + 1134-1176". Bare numbers right after such a "+" are
# chapters; "v01-04 + v06-09" carries its own prefix and stays volumes.
_PLUS_CHAPTERS_RE = re.compile(rf"\s*\+\s*(?P<start>{_NUMBER})(?:[-–](?P<end>{_NUMBER}))?")


@dataclass(frozen=True)
class ParsedSpans:
    """Merged volume and chapter spans found in one release."""

    volumes: list[Span]
    chapters: list[Span]

    def to_json(self) -> dict[str, list[list[int | float]]]:
        """Return the spans as JSON-ready lists, whole numbers as ints."""
        return {"volumes": spans_to_json(self.volumes), "chapters": spans_to_json(self.chapters)}


def parse_spans(title: str, file_names: Iterable[str] = ()) -> ParsedSpans:
    """Read volume and chapter spans from a title and any file names, merged per axis."""
    volumes: list[Span] = []
    chapters: list[Span] = []
    for text in (title, *file_names):
        prepared = _strip_file_extension(strip_bracket_groups(text))
        volumes.extend(_volume_spans(prepared))
        chapters.extend(_chapters_after_volumes(prepared))
        chapters.extend(_chapter_spans(prepared))
    return ParsedSpans(volumes=merge_spans(volumes), chapters=merge_spans(chapters))


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sort spans and merge those that overlap or touch; real gaps survive.

    Each span is ordered first, so a reversed range (`v05-01`) counts as 1–5.
    Two spans merge when `next.start <= prev.end + 1`: `[1-4]` and `[5-9]`
    become `[1-9]`, while `[1-4]` and `[6-9]` stay apart.
    """
    ordered = sorted((float(min(start, end)), float(max(start, end))) for start, end in spans)
    merged: list[Span] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1] + 1:
            previous_start, previous_end = merged[-1]
            merged[-1] = (previous_start, max(previous_end, end))
        else:
            merged.append((start, end))
    return merged


def highest(spans: Iterable[Span]) -> float | None:
    """Return the largest span end, or None when there are no spans."""
    return max((max(span) for span in spans), default=None)


def spans_to_json(spans: Iterable[Span]) -> list[list[int | float]]:
    """Return spans as `[[start, end], ...]` with whole numbers as ints (1, not 1.0)."""
    return [[plain_number(start), plain_number(end)] for start, end in spans]


def strip_bracket_groups(text: str) -> str:
    """Remove every `(...)` and `[...]` group, nested ones included; span groups keep their text."""
    while True:
        stripped = BRACKET_GROUP_RE.sub(_bracket_replacement, text)
        if stripped == text:
            return stripped
        text = stripped


def _bracket_replacement(match: re.Match[str]) -> str:
    group = match.group(0)
    return f" {group[1:-1]} " if SPAN_GROUP_RE.match(group) else " "


def _strip_file_extension(text: str) -> str:
    return FILE_EXTENSION_RE.sub("", text)


def _volume_spans(text: str) -> list[Span]:
    return [_span_from_match(match) for match in VOLUME_SPAN_RE.finditer(text)]


def _chapters_after_volumes(text: str) -> list[Span]:
    spans = []
    for volume_match in VOLUME_SPAN_RE.finditer(text):
        plus_match = _PLUS_CHAPTERS_RE.match(text, volume_match.end())
        if plus_match:
            spans.append(_span_from_match(plus_match))
    return spans


def _chapter_spans(text: str) -> list[Span]:
    return [_span_from_match(match) for match in CHAPTER_SPAN_RE.finditer(text)]


def _span_from_match(match: re.Match[str]) -> Span:
    groups = match.groupdict()
    start = float(groups.get("keyword_start") or groups["start"])
    end = float(groups.get("keyword_end") or groups["end"] or start)
    if int(end) in YEAR_LIKE and start < MAX_START_BEFORE_YEAR and int(start) not in YEAR_LIKE:
        return (start, start)
    return (start, end)


def plain_number(number: float) -> int | float:
    """Whole numbers as ints so JSON prints `12`, not `12.0`; fractions stay."""
    if type(number) is float:  # a span's ends: the usual case, called per end
        return int(number) if number.is_integer() else number
    return int(number) if float(number).is_integer() else number
