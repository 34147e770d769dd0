"""Hand-linking a series to Codex: the one service the API and the series-page form share.

The admin pastes a Codex series URL or UUID; the series gets a *manual* link
that no sweep overwrites or removes (SPEC §5.2 step 5). Unlinking and muting
completion tracking live here too, so both surfaces behave the same.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from django.db import transaction

from codex_sync.models import CodexLink, LinkKind, UnmatchedCodexSeries
from codex_sync.overlay import last_synced_at, synced_at_of
from codex_sync.status import refresh_link_status
from feed.models import Series

# A pasted reference longer than this is not a URL anyone copied from Codex.
MAX_REFERENCE_LENGTH = 2000
_UUID_PATTERN = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$",
    re.IGNORECASE,
)
EXPECTED = "a Codex series URL (…/series/<uuid>) or the series UUID"


def _as_uuid(text: str) -> uuid.UUID | None:
    # Only the canonical and the 32-hex forms: uuid.UUID() would also take
    # braces and "urn:uuid:" prefixes, which nobody copies out of Codex.
    return uuid.UUID(text) if _UUID_PATTERN.match(text) else None


def parse_codex_series_reference(text: str) -> uuid.UUID:
    """The Codex series UUID in `text`: a bare UUID or a `<codex>/series/<uuid>` URL.

    Query strings and fragments are ignored, as is the host: Codex is often
    reached under more than one name (LAN address, public hostname). Raises
    `ValueError` with a message fit to show the admin.
    """
    text = (text or "").strip()
    if not text:
        raise ValueError(f"Enter {EXPECTED}.")
    if len(text) > MAX_REFERENCE_LENGTH:
        raise ValueError(f"That is too long to be {EXPECTED}.")
    parsed = _as_uuid(text)
    if parsed is None and "/" in text:
        parsed = _uuid_from_url(text)
    if parsed is None:
        raise ValueError(f"“{_excerpt(text)}” is not {EXPECTED}.")
    if parsed.int == 0:
        raise ValueError("The nil UUID is not a Codex series.")
    return parsed


def _uuid_from_url(text: str) -> uuid.UUID | None:
    parts = urlsplit(text)
    if parts.scheme and parts.scheme.lower() not in {"http", "https"}:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    # The segment after the last "series", so Codex served under a sub-path works too.
    for index in range(len(segments) - 2, -1, -1):
        if segments[index].lower() == "series":
            return _as_uuid(segments[index + 1])
    return None


def _excerpt(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def link_series(series: Series, codex_uuid: uuid.UUID) -> CodexLink:
    """Link `series` to a Codex series by hand, replacing any link it had.

    Codex's counts are copied from what the last sweep saw of that Codex
    series (this series' own link, another series' link, or the unmatched
    list), with `synced_at` saying when that was; a UUID the last sweep did
    not see gets empty counts and `synced_at` None until the next sweep.
    """
    with transaction.atomic():
        counts = _known_counts(series, codex_uuid)
        link, _ = CodexLink.objects.update_or_create(
            series=series,
            defaults={
                "codex_series_uuid": codex_uuid,
                "link_kind": LinkKind.MANUAL,
                "matched_provider": "",
                "matched_external_id": "",
                **counts,
            },
        )
        # The next sweep would leave a hand-linked Codex series off the
        # unmatched list; say so now rather than after the next sweep.
        UnmatchedCodexSeries.objects.filter(codex_series_uuid=codex_uuid).delete()
    return link


def _known_counts(series: Series, codex_uuid: uuid.UUID) -> dict:
    empty = {
        "local_max_volume": None,
        "local_max_chapter": None,
        "volumes_owned": None,
        "synced_at": None,
    }
    # Every link to one Codex UUID carries the same counts; prefer this series'
    # own row, then any row a sweep has filled.
    links = list(CodexLink.objects.filter(codex_series_uuid=codex_uuid))
    if links:
        last_sweep_at = last_synced_at()
        source = min(
            links,
            key=lambda link: (
                link.series_id != series.pk,
                synced_at_of(link, last_sweep_at) is None,
            ),
        )
        return {**_counts_of(source), "synced_at": synced_at_of(source, last_sweep_at)}
    unmatched = UnmatchedCodexSeries.objects.filter(codex_series_uuid=codex_uuid).first()
    if unmatched is not None:
        # The unmatched list is the last successful sweep's (rows it found
        # unchanged keep the `recorded_at` of when they last changed).
        return {**_counts_of(unmatched), "synced_at": last_synced_at() or unmatched.recorded_at}
    return empty


def _counts_of(row: CodexLink | UnmatchedCodexSeries) -> dict:
    return {
        "local_max_volume": row.local_max_volume,
        "local_max_chapter": row.local_max_chapter,
        "volumes_owned": row.volumes_owned,
    }


def unlink_series(series: Series) -> str | None:
    """Remove the series' Codex link, if any; the kind of link removed, or None.

    An automatic link comes back with the next sweep while the shared external
    id is still there; callers tell the admin so.
    """
    link = CodexLink.objects.filter(series=series).only("link_kind").first()
    if link is None:
        return None
    CodexLink.objects.filter(pk=link.pk).delete()
    return link.link_kind


def set_ignore_completion(series: Series, ignore: bool) -> Series:
    """Mute (or unmute) Codex completion tracking for one series."""
    Series.objects.filter(pk=series.pk).update(ignore_completion=ignore)
    series.ignore_completion = ignore
    refresh_link_status([series.pk])
    return series
