"""The export field catalog: every column an export can hold, its group, and the presets.

This is the one place that knows which fields exist and which are admin-only.
Keys are camelCase like the JSON API and unique across series and releases,
so one flat `fields` list works for every export type. Ownership columns are
computed from `codex_sync.overlay` (the same status rule as the badges) and
exist only for admins: for anyone else they are absent from the catalog and
the presets, and asking for one is the same "unknown field" error as a typo,
so the API cannot be used to learn what the admin can see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from django.conf import settings
from django.urls import reverse

from codex_sync import overlay
from exports.models import ExportType

SERIES = "series"
RELEASES = "releases"

ENTITY_LABELS = {SERIES: "Series", RELEASES: "Releases"}
ENTITIES_BY_TYPE: dict[str, tuple[str, ...]] = {
    ExportType.SERIES: (SERIES,),
    ExportType.RELEASES: (RELEASES,),
    ExportType.BOTH: (SERIES, RELEASES),
}


class ValueKind(Enum):
    """What a field holds; each writer formats the kinds its own way."""

    TEXT = "text"
    URL = "url"
    INTEGER = "integer"
    NUMBER = "number"  # volume/chapter numbers: 12 prints as 12, 10.5 stays
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    TEXT_LIST = "text_list"
    SPANS = "spans"  # coverage: [[start, end], ...]


@dataclass(frozen=True)
class ExportField:
    """One exportable column.

    `source` is the database column the value comes from, as a `values_list`
    path from the entity's model (`codex_link__local_max_volume`), so an
    export reads plain tuples of the columns it needs rather than building
    model instances. For a value that is not a column as it stands, `derive`
    is called once per export (so what it reads from settings is read once)
    and returns the function from the column's value, None included, to the
    exported one.
    """

    key: str
    label: str
    entity: str
    group: str
    kind: ValueKind
    source: str
    derive: Callable[[], Callable[[Any], Any]] | None = None
    admin_only: bool = False
    in_llm_preset: bool = False
    # Related rows the value is made of, which the pipeline loads once per batch
    # (then `source` is the entity's id the related rows hang on).
    related: str = ""


# `related` value: the series' "provider:id" strings, ordered by provider.
EXTERNAL_IDS = "external_ids"


@cache
def _series_path_template() -> str:
    # `reverse` costs more than the rest of a row; the URL conf does not change.
    placeholder = 987654321
    path = reverse("feed:detail", args=[placeholder])
    return path.replace("%", "%%").replace(str(placeholder), "%s")


def _series_url() -> Callable[[int], str]:
    """The series page from its id; absolute when `server.public_url` is set."""
    # A `%` template: one C call per row, where `str.format` with a keyword cost more.
    base = settings.TSUNDOKU.server["public_url"].rstrip("/").replace("%", "%%")
    template = base + _series_path_template()
    return lambda series_id: template % series_id


def _is_linked() -> Callable[[int | None], bool]:
    return lambda link_id: link_id is not None


def _codex_url() -> Callable[[Any], str | None]:
    series_url = overlay.series_urls()
    return lambda uuid: series_url(uuid) if uuid is not None else None


def _series_field(key, label, group, kind, source="id", **options) -> ExportField:
    return ExportField(key, label, SERIES, group, kind, source, **options)


def _release_field(key, label, group, kind, source, **options) -> ExportField:
    return ExportField(key, label, RELEASES, group, kind, source, **options)


K = ValueKind
# fmt: off
FIELDS: tuple[ExportField, ...] = (
    # Series · Identity
    _series_field("id", "Series id", "Identity", K.INTEGER, "id"),
    _series_field("canonicalTitle", "Title", "Identity", K.TEXT, "canonical_title",
                  in_llm_preset=True),
    _series_field("alternateTitles", "Alternate titles", "Identity", K.TEXT_LIST,
                  "alternate_titles", in_llm_preset=True),
    _series_field("externalIds", "External ids", "Identity", K.TEXT_LIST,
                  related=EXTERNAL_IDS),
    _series_field("url", "tsundoku page", "Identity", K.URL, derive=_series_url),
    # Series · Metadata
    _series_field("kind", "Kind", "Metadata", K.TEXT, "kind", in_llm_preset=True),
    _series_field("status", "Publication status", "Metadata", K.TEXT, "status",
                  in_llm_preset=True),
    _series_field("year", "Year", "Metadata", K.INTEGER, "year", in_llm_preset=True),
    _series_field("description", "Description", "Metadata", K.TEXT, "description",
                  in_llm_preset=True),
    _series_field("genres", "Genres", "Metadata", K.TEXT_LIST, "genres", in_llm_preset=True),
    _series_field("coverUrl", "Cover URL", "Metadata", K.URL, "cover_url"),
    # Series · Coverage & Counts
    _series_field("highestVolume", "Highest volume", "Coverage & Counts", K.NUMBER,
                  "highest_volume", in_llm_preset=True),
    _series_field("highestChapter", "Highest chapter", "Coverage & Counts", K.NUMBER,
                  "highest_chapter", in_llm_preset=True),
    _series_field("totalVolumes", "Total volumes", "Coverage & Counts", K.INTEGER,
                  "total_volumes", in_llm_preset=True),
    _series_field("totalChapters", "Total chapters", "Coverage & Counts", K.INTEGER,
                  "total_chapters", in_llm_preset=True),
    _series_field("volumeCoverage", "Volume coverage", "Coverage & Counts", K.SPANS,
                  "volume_coverage"),
    _series_field("chapterCoverage", "Chapter coverage", "Coverage & Counts", K.SPANS,
                  "chapter_coverage"),
    _series_field("releaseCount", "Releases", "Coverage & Counts", K.INTEGER, "release_count"),
    _series_field("firstSeenAt", "First seen", "Coverage & Counts", K.DATETIME,
                  "first_seen_at"),
    _series_field("lastReleaseAt", "Last release", "Coverage & Counts", K.DATETIME,
                  "last_release_at"),
    _series_field("updatedAt", "Coverage updated", "Coverage & Counts", K.DATETIME,
                  "updated_at"),
    # Series · Ownership (admin only)
    # Read from the overlay's join and its status annotation (`codex_sync.overlay.with_codex`,
    # which the feed's query adds for admins): the same status rule as the badges.
    _series_field("owned", "On Codex", "Ownership", K.BOOLEAN, "codex_link__id",
                  derive=_is_linked, admin_only=True),
    _series_field("codexStatus", "Codex status", "Ownership", K.TEXT, "codex_status",
                  admin_only=True, in_llm_preset=True),
    _series_field("codexLocalMaxVolume", "Codex highest volume", "Ownership", K.NUMBER,
                  "codex_link__local_max_volume", admin_only=True),
    _series_field("codexLocalMaxChapter", "Codex highest chapter", "Ownership", K.NUMBER,
                  "codex_link__local_max_chapter", admin_only=True),
    _series_field("codexVolumesOwned", "Codex volumes owned", "Ownership", K.INTEGER,
                  "codex_link__volumes_owned", admin_only=True),
    _series_field("codexUrl", "Codex link", "Ownership", K.URL, "codex_link__codex_series_uuid",
                  derive=_codex_url, admin_only=True),
    # Releases · Identity
    _release_field("releaseId", "Release id", "Identity", K.INTEGER, "id"),
    _release_field("releaseTitle", "Release title", "Identity", K.TEXT, "title",
                   in_llm_preset=True),
    _release_field("seriesId", "Series id", "Identity", K.INTEGER, "series_id"),
    _release_field("seriesTitle", "Series title", "Identity", K.TEXT,
                   "series__canonical_title", in_llm_preset=True),
    # Releases · Source
    _release_field("sourceName", "Source", "Source", K.TEXT, "source_name"),
    _release_field("postedAt", "Posted", "Source", K.DATETIME, "posted_at",
                   in_llm_preset=True),
    _release_field("observedAt", "Observed", "Source", K.DATETIME, "observed_at"),
    _release_field("sizeBytes", "Size (bytes)", "Source", K.INTEGER, "size_bytes"),
    _release_field("category", "Category", "Source", K.TEXT, "category"),
    _release_field("postUrl", "Post URL", "Source", K.URL, "post_url"),
    _release_field("torrentUrl", "Torrent URL", "Source", K.URL, "torrent_url"),
    _release_field("magnet", "Magnet link", "Source", K.URL, "magnet"),
    _release_field("infoHash", "Info hash", "Source", K.TEXT, "info_hash"),
    # Releases · Coverage
    _release_field("volumeSpans", "Volumes", "Coverage", K.SPANS, "volume_spans",
                   in_llm_preset=True),
    _release_field("chapterSpans", "Chapters", "Coverage", K.SPANS, "chapter_spans",
                   in_llm_preset=True),
)
# fmt: on

# The field every row carries whatever the selection: what makes a row readable.
ANCHORS = {SERIES: "canonicalTitle", RELEASES: "releaseTitle"}

ALL_PRESET = "all"
LLM_PRESET = "llm"
CLEAR_PRESET = "clear"
PRESET_LABELS = {
    ALL_PRESET: "Select all",
    LLM_PRESET: "LLM preset",
    CLEAR_PRESET: "Clear",
}
PRESET_DESCRIPTIONS = {
    ALL_PRESET: "Every field you can export.",
    LLM_PRESET: "A compact set for a language model: titles, kind, status, year, "
    "description, genres, highest volume/chapter, totals"
    " — no internal ids, URLs or file links.",
    CLEAR_PRESET: "Only the title (always included).",
}


class UnknownFields(ValueError):
    """Field keys that do not exist for this export type (or for this reader)."""

    def __init__(self, keys: Iterable[str], export_type: str):
        self.keys = list(keys)
        self.export_type = export_type
        noun = "field" if len(self.keys) == 1 else "fields"
        super().__init__(
            f"Unknown {noun} for a {export_type} export: {', '.join(self.keys)}. "
            "GET /api/v1/exports/fields lists the fields you can export."
        )


@dataclass(frozen=True)
class FieldSelection:
    """The columns of one export, per entity: the anchor first, then catalog order."""

    series: tuple[ExportField, ...] = ()
    releases: tuple[ExportField, ...] = ()

    @property
    def keys(self) -> list[str]:
        return [field.key for field in (*self.series, *self.releases)]

    @property
    def related(self) -> set[str]:
        return {field.related for field in self.series if field.related}


def available_fields(entities: Iterable[str], *, is_admin: bool) -> list[ExportField]:
    """The fields a reader may export for these entities, in catalog order."""
    wanted = set(entities)
    return [
        field for field in FIELDS if field.entity in wanted and (is_admin or not field.admin_only)
    ]


def preset_keys(preset: str, entities: Iterable[str], *, is_admin: bool) -> list[str]:
    """The keys a preset selects for these entities (anchors are added on resolve)."""
    fields = available_fields(entities, is_admin=is_admin)
    if preset == ALL_PRESET:
        return [field.key for field in fields]
    if preset == LLM_PRESET:
        return [field.key for field in fields if field.in_llm_preset]
    if preset == CLEAR_PRESET:
        return []
    raise ValueError(f"unknown preset {preset!r}")


def resolve_fields(
    export_type: str, keys: Iterable[str] | None, *, is_admin: bool
) -> FieldSelection:
    """The selection for `keys` (None = every field), anchors always included.

    Raises `UnknownFields` naming every key that is not exportable here:
    misspelt, belonging to the other entity, or admin-only for a non-admin.
    """
    entities = ENTITIES_BY_TYPE[export_type]
    fields = available_fields(entities, is_admin=is_admin)
    if keys is None:
        chosen = {field.key for field in fields}
    else:
        chosen = set()
        known = {field.key for field in fields}
        unknown = []
        for key in keys:
            if key in known:
                chosen.add(key)
            elif key not in unknown:
                unknown.append(key)
        if unknown:
            raise UnknownFields(unknown, export_type)
    chosen.update(ANCHORS[entity] for entity in entities)
    # The anchor leads each entity's columns: the first thing a reader looks for.
    selected = sorted(
        (field for field in fields if field.key in chosen),
        key=lambda field: field.key != ANCHORS[field.entity],
    )
    return FieldSelection(
        series=tuple(field for field in selected if field.entity == SERIES),
        releases=tuple(field for field in selected if field.entity == RELEASES),
    )


def catalog(*, is_admin: bool) -> dict:
    """The field catalog for one reader: entities → groups → fields, and the presets."""
    entities = []
    for entity in (SERIES, RELEASES):
        groups: dict[str, list[dict]] = {}
        for field in available_fields([entity], is_admin=is_admin):
            groups.setdefault(field.group, []).append(
                {
                    "key": field.key,
                    "label": field.label,
                    "anchor": field.key == ANCHORS[entity],
                }
            )
        entities.append(
            {
                "entity": entity,
                "label": ENTITY_LABELS[entity],
                "anchor": ANCHORS[entity],
                "groups": [{"name": name, "fields": items} for name, items in groups.items()],
            }
        )
    presets = [
        {
            "name": name,
            "label": label,
            "description": PRESET_DESCRIPTIONS[name],
            "fields": preset_keys(name, (SERIES, RELEASES), is_admin=is_admin),
        }
        for name, label in PRESET_LABELS.items()
    ]
    return {"entities": entities, "presets": presets}
