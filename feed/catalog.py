"""Catalog series made from a metadata provider's record: find, create, refresh.

One rule for "is this record already in the catalog?": a series that holds
the record's own id, else one that holds any of its cross ids (AniList,
MyAnimeList, MangaUpdates in either spelling, …). A series that already maps
the record's provider to a *different* id is never taken: two MangaBaka
series that share an AniList id (upstream has such duplicates) stay two.

Resolution (a release named a series), the admin's "Add series", the review
queue and the Codex page all create series through `upsert_from_metadata`,
so a series is never duplicated whichever door it came through.

A series the admin edited by hand (`metadata_locked`) keeps its metadata: a
refresh may add cross ids it lacks but never rewrites its fields. A series
from a hand-made import is treated as curated too: the provider only fills
the fields it left empty. A series the provider created follows the
provider: rewritten whenever the record's content hash moves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from feed.external_ids import MANGAUPDATES, mangaupdates_forms, provider_links
from feed.models import ExternalId, Provider, Series, SeriesKind, SeriesOrigin, SeriesStatus
from feed.search import search_text_for, sort_title_for
from metadata.providers import MetadataProvider, ProviderError
from metadata.records import SeriesMetadata

logger = logging.getLogger(__name__)

MAX_TITLE_LENGTH = Series._meta.get_field("canonical_title").max_length
MAX_URL_LENGTH = Series._meta.get_field("cover_url").max_length
MAX_EXTERNAL_ID_LENGTH = ExternalId._meta.get_field("external_id").max_length
# Rows per INSERT when many series are created at once.
BULK_BATCH = 500

# Ids a metadata provider can be asked about. MangaDex is not among them:
# MangaBaka dropped it as a source, so its ids find nothing there.
LOOKUP_PROVIDERS = frozenset(
    {
        "mangabaka",
        "anilist",
        "mal",
        "mangaupdates",
        "kitsu",
        "anime_planet",
        "shikimori",
        "anime_news_network",
    }
)


@dataclass(frozen=True)
class Upsert:
    """What `upsert_from_metadata` did: the series, and whether it was new or rewritten."""

    series: Series
    created: bool = False
    updated: bool = False


def id_forms(provider: str, external_id: str) -> list[str]:
    """Every lower-cased spelling under which the catalog may hold this id."""
    value = (external_id or "").strip().lower()
    if not value:
        return []
    if provider == MANGAUPDATES:
        return list(dict.fromkeys([value, *mangaupdates_forms(value)]))
    return [value]


def find_series_for(record: SeriesMetadata) -> Series | None:
    """The catalog series this record describes, by its own id then by any cross id."""
    own = _series_ids_holding(record.provider, record.external_id)
    if own:
        return Series.objects.get(pk=own[0])
    condition = Q()
    for provider, external_id in record.foreign_ids.items():
        forms = id_forms(provider, external_id)
        if forms and provider in Provider.values:
            condition |= Q(provider=provider, folded_id__in=forms)
    if not condition:
        return None
    candidate_ids = list(
        ExternalId.objects.annotate(folded_id=Lower("external_id"))
        .filter(condition)
        .values_list("series_id", flat=True)
        .distinct()
    )
    if not candidate_ids:
        return None
    # A candidate that already has another id at this provider is another series.
    taken = set(
        ExternalId.objects.filter(series_id__in=candidate_ids, provider=record.provider)
        .exclude(external_id__iexact=record.external_id)
        .values_list("series_id", flat=True)
    )
    for series_id in sorted(candidate_ids):
        if series_id not in taken:
            return Series.objects.get(pk=series_id)
    return None


def upsert_from_metadata(record: SeriesMetadata, *, origin: str = SeriesOrigin.PROVIDER) -> Upsert:
    """Find or create the series for `record`, fill its metadata and every cross id.

    An existing series is rewritten only when the record's content hash moved
    and nobody edited it by hand. An admin adding a series that a release
    already created promotes it to "added" (it then shows in the feed even
    without releases).
    """
    with transaction.atomic():
        series = find_series_for(record)
        created = updated = False
        if series is None:
            series = Series(origin=origin, first_seen_at=timezone.now())
            _apply(series, record)
            series.save()
            created = True
        else:
            if series.metadata_locked:
                updated = False  # edited by hand: only cross ids are added below
            elif series.origin == SeriesOrigin.IMPORT and not series.metadata_provider:
                # A hand-made import is curated: the provider only fills its blanks.
                updated = _fill_blanks(series, record)
            elif series.metadata_hash != record.content_hash:
                _apply(series, record)
                updated = True
            if origin == SeriesOrigin.ADDED and series.origin == SeriesOrigin.PROVIDER:
                series.origin = SeriesOrigin.ADDED
                updated = True
            if updated:
                series.save()
        _add_external_ids(series, record)
    return Upsert(series=series, created=created, updated=updated)


def upsert_many(
    records: Iterable[SeriesMetadata], *, origin: str = SeriesOrigin.PROVIDER
) -> dict[tuple[str, str], int]:
    """`upsert_from_metadata` for many records at once: `(provider, id)` → series id.

    Records the catalog holds no id of (the common case in a backlog: series
    nobody has seen yet) are created set-based, with their external ids, in a
    few statements; the others go through `upsert_from_metadata` one by one,
    so every rule (cross-id matching, curated imports, hand edits) holds.
    """
    unique = {(record.provider, record.external_id): record for record in records}
    if not unique:
        return {}
    held = known_series(unique.values())
    found: dict[tuple[str, str], int] = {}
    for key, record in unique.items():
        if key in held:
            found[key] = upsert_from_metadata(record, origin=origin).series.pk
    fresh = [record for key, record in unique.items() if key not in held]
    if not fresh:
        return found
    now = timezone.now()
    with transaction.atomic():
        created = []
        for record in fresh:
            series = Series(origin=origin, first_seen_at=now)
            _apply(series, record)
            series.search_text = search_text_for(series.canonical_title, series.alternate_titles)
            series.sort_title = sort_title_for(series.canonical_title)
            created.append(series)
        Series.objects.bulk_create(created, batch_size=BULK_BATCH)
        external_ids = [
            ExternalId(series=series, provider=provider, external_id=external_id.strip())
            for series, record in zip(created, fresh, strict=True)
            for provider, external_id in record.all_ids.items()
            if provider in Provider.values
            and (external_id or "").strip()
            and len(external_id.strip()) <= MAX_EXTERNAL_ID_LENGTH
        ]
        # Two new records sharing a cross id (upstream duplicates): the first keeps it.
        ExternalId.objects.bulk_create(external_ids, batch_size=BULK_BATCH, ignore_conflicts=True)
    for series, record in zip(created, fresh, strict=True):
        found[(record.provider, record.external_id)] = series.pk
    return found


def refresh_series(records: Iterable[SeriesMetadata]) -> tuple[int, int]:
    """Rewrite catalog series whose provider record changed; returns (updated, unchanged).

    Only series that carry the record's own id are touched; nothing is created.
    """
    updated = unchanged = 0
    for record in records:
        own = _series_ids_holding(record.provider, record.external_id)
        if not own:
            continue
        series = Series.objects.get(pk=own[0])
        if series.metadata_locked or series.metadata_hash == record.content_hash:
            Series.objects.filter(pk=series.pk).update(metadata_fetched_at=timezone.now())
            unchanged += 1
            continue
        with transaction.atomic():
            _apply(series, record)
            series.save()
            _add_external_ids(series, record)
        updated += 1
    return updated, unchanged


def lookup_record(
    provider: MetadataProvider, id_provider: str, external_id: str
) -> SeriesMetadata | None:
    """Ask `provider` for the series another provider (or itself) knows by `external_id`."""
    if id_provider == provider.name:
        return provider.get(external_id)
    return provider.find_by_foreign_id(id_provider, external_id)


@dataclass(frozen=True)
class ProviderResult:
    """A provider series as a search shows it: the record, and its catalog series if held."""

    record: SeriesMetadata
    series_id: int | None


class NotLookupable(ValueError):
    """A pasted link names an id the provider cannot look up (e.g. MangaDex on MangaBaka)."""


def provider_label(provider: MetadataProvider | None) -> str:
    """How pages name the provider: "MangaBaka", not its token."""
    if provider is None:
        return "the metadata provider"
    return Provider(provider.name).label if provider.name in Provider.values else provider.name


def search_provider(provider: MetadataProvider, text: str, *, limit: int) -> list[ProviderResult]:
    """What the admin typed: series URLs are looked up by id, anything else is a title search.

    Raises `NotLookupable` when the text holds only links the provider cannot
    resolve, and lets `ProviderError` through for the page to explain.
    """
    pairs = provider_links(text)
    if pairs:
        records = []
        for id_provider, external_id in pairs:
            if id_provider not in LOOKUP_PROVIDERS:
                continue
            record = lookup_record(provider, id_provider, external_id)
            if record is not None and record not in records:
                records.append(record)
        if not records and all(p not in LOOKUP_PROVIDERS for p, _ in pairs):
            names = sorted({Provider(p).label for p, _ in pairs})
            raise NotLookupable(
                f"{provider.name} cannot look up {', '.join(names)} ids; "
                "search by title instead, or paste another site's link."
            )
    else:
        records = provider.search(text, limit)
    held = known_series(records)
    return [
        ProviderResult(record, held.get((record.provider, record.external_id)))
        for record in records
    ]


def first_known_record(
    provider: MetadataProvider,
    pairs: Iterable[tuple[str, str]],
    answers: dict[tuple[str, str], SeriesMetadata | None],
) -> SeriesMetadata | None:
    """The provider's record for the first `(provider token, id)` it knows.

    `answers` memoises each id's answer across calls (a batch asks once per
    id). Ids the provider cannot look up are skipped; a provider failure is
    logged and answers None for that id, for this batch only.
    """
    for pair in pairs:
        if pair[0] not in LOOKUP_PROVIDERS:
            continue
        if pair not in answers:
            try:
                answers[pair] = lookup_record(provider, *pair)
            except ProviderError as exc:
                logger.warning("Metadata provider %s: %s", provider.name, exc)
                answers[pair] = None
        if answers[pair] is not None:
            return answers[pair]
    return None


def identify(
    provider: MetadataProvider, id_lists: list[list[tuple[str, str]]]
) -> list[ProviderResult | None]:
    """For each list of `(provider token, id)` pairs, the provider series the first known id names.

    Used where something outside the catalog carries ids but no metadata (an
    unmatched Codex series). A provider failure answers None for that list
    and is logged; the page still renders.
    """
    answers: dict[tuple[str, str], SeriesMetadata | None] = {}
    found = [first_known_record(provider, pairs, answers) for pairs in id_lists]
    held = known_series(record for record in found if record is not None)
    return [
        ProviderResult(record, held.get((record.provider, record.external_id)))
        if record is not None
        else None
        for record in found
    ]


def known_series(records: Iterable[SeriesMetadata]) -> dict[tuple[str, str], int]:
    """Which records the catalog already holds: `(provider, external_id)` → series id.

    A record counts as held when any of its ids (own or cross) is in the
    catalog; one query, however many records.
    """
    records = list(records)
    forms_by_provider: dict[str, set[str]] = {}
    for record in records:
        for provider, external_id in record.all_ids.items():
            forms_by_provider.setdefault(provider, set()).update(id_forms(provider, external_id))
    condition = Q()
    for provider, forms in forms_by_provider.items():
        if forms:
            condition |= Q(provider=provider, folded_id__in=sorted(forms))
    holders: dict[tuple[str, str], int] = {}
    if condition:
        # One statement for every provider: each OR branch uses the folded-id index.
        rows = (
            ExternalId.objects.annotate(folded_id=Lower("external_id"))
            .filter(condition)
            .values_list("provider", "folded_id", "series_id")
        )
        holders = {(provider, folded): series_id for provider, folded, series_id in rows}
    found: dict[tuple[str, str], int] = {}
    for record in records:
        for provider, external_id in record.all_ids.items():
            hit = next(
                (
                    holders[(provider, form)]
                    for form in id_forms(provider, external_id)
                    if (provider, form) in holders
                ),
                None,
            )
            if hit is not None:
                found[(record.provider, record.external_id)] = hit
                break
    return found


def refresh_from_provider(provider: MetadataProvider, *, batch_size: int = 500) -> tuple[int, int]:
    """Re-read every catalog series this provider described; rewrite those whose record moved.

    Returns (updated, unchanged). Series the provider no longer knows keep
    their metadata (a broken upstream never wipes stored data).
    """
    series_ids = list(
        Series.objects.filter(metadata_provider=provider.name, metadata_locked=False)
        .order_by(F("metadata_fetched_at").asc(nulls_first=True), "id")
        .values_list("id", flat=True)
    )
    updated = unchanged = 0
    for offset in range(0, len(series_ids), batch_size):
        batch = series_ids[offset : offset + batch_size]
        own_ids = ExternalId.objects.filter(series_id__in=batch, provider=provider.name)
        records = []
        for external_id in own_ids.values_list("external_id", flat=True):
            try:
                record = provider.get(external_id)
            except ProviderError as exc:
                logger.warning("Metadata refresh stopped: %s", exc)
                return updated, unchanged
            if record is not None:
                records.append(record)
        batch_updated, batch_unchanged = refresh_series(records)
        updated += batch_updated
        unchanged += batch_unchanged
    return updated, unchanged


def _series_ids_holding(provider: str, external_id: str) -> list[int]:
    forms = id_forms(provider, external_id)
    if not forms:
        return []
    return list(
        ExternalId.objects.annotate(folded_id=Lower("external_id"))
        .filter(provider=provider, folded_id__in=forms)
        .values_list("series_id", flat=True)
    )


def _apply(series: Series, record: SeriesMetadata) -> None:
    """Copy the record's fields onto the series; coverage and Codex fields are untouched."""
    series.canonical_title = record.title[:MAX_TITLE_LENGTH]
    alternates = [record.native_title, record.romanized_title, *record.alternate_titles]
    series.alternate_titles = list(
        dict.fromkeys(t[:MAX_TITLE_LENGTH] for t in alternates if t and t != record.title)
    )
    series.native_title = (record.native_title or "")[:MAX_TITLE_LENGTH]
    series.romanized_title = (record.romanized_title or "")[:MAX_TITLE_LENGTH]
    series.kind = record.kind if record.kind in SeriesKind.values else SeriesKind.OTHER
    series.status = record.status if record.status in SeriesStatus.values else SeriesStatus.UNKNOWN
    series.year = record.year if record.year and 1000 <= record.year <= 9999 else None
    series.published_start = record.published_start
    series.published_end = record.published_end
    series.description = record.description or ""
    cover = record.cover_url or ""
    usable = cover.startswith(("http://", "https://")) and len(cover) <= MAX_URL_LENGTH
    series.cover_url = cover if usable else ""
    series.genres = list(record.genres)
    series.tags = list(record.tags)
    series.total_volumes = record.total_volumes if (record.total_volumes or 0) > 0 else None
    series.total_chapters = record.total_chapters if (record.total_chapters or 0) > 0 else None
    series.rating = record.rating
    series.metadata_provider = record.provider
    series.metadata_hash = record.content_hash
    series.metadata_fetched_at = timezone.now()


def _fill_blanks(series: Series, record: SeriesMetadata) -> bool:
    """Fill the fields an imported series left empty from `record`; True when any was."""
    complete = Series()
    _apply(complete, record)
    filled = False
    blank = (None, "", [])
    for name in (
        "native_title",
        "romanized_title",
        "year",
        "published_start",
        "published_end",
        "description",
        "cover_url",
        "genres",
        "tags",
        "total_volumes",
        "total_chapters",
        "rating",
    ):
        if getattr(series, name) in blank and getattr(complete, name) not in blank:
            setattr(series, name, getattr(complete, name))
            filled = True
    return filled


def _add_external_ids(series: Series, record: SeriesMetadata) -> None:
    """Give the series each of the record's ids it lacks; never steal one from another series."""
    held = {
        (provider, external_id.lower())
        for provider, external_id in ExternalId.objects.filter(series=series).values_list(
            "provider", "external_id"
        )
    }
    held_providers = {provider for provider, _ in held}
    for provider, external_id in record.all_ids.items():
        external_id = (external_id or "").strip()
        if provider not in Provider.values or not external_id:
            continue
        if len(external_id) > MAX_EXTERNAL_ID_LENGTH or provider in held_providers:
            continue
        if _series_ids_holding(provider, external_id):
            logger.warning(
                "%s:%s already belongs to another series; not adding it to series %s",
                provider,
                external_id,
                series.pk,
            )
            continue
        try:
            with transaction.atomic():
                ExternalId.objects.create(series=series, provider=provider, external_id=external_id)
        except IntegrityError:
            # Another writer took it between the check and the insert.
            continue
        held_providers.add(provider)
