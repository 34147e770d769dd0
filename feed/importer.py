"""Catalog import from JSON: a list of series records, or one record per line.

A record looks like::

    {"canonicalTitle": "Berserk", "alternateTitles": ["ベルセルク"], "kind": "manga",
     "status": "ongoing", "year": 1989, "description": "…", "coverUrl": "https://…",
     "totalVolumes": 42, "totalChapters": null, "genres": ["Action"],
     "externalIds": {"anilist": "30002", "mangabaka": "1234"}}

Only `canonicalTitle` is required. Importing is idempotent: a record whose
external ids already exist updates that series (only the keys it carries), so
the same file can be loaded again after an upstream refresh. Each bad record
is reported with its position (`index 3` in a list, `line 7` in JSON lines) and
the fields at fault, and skipped; the rest still load. Afterwards releases
still waiting for a series are matched again, since new titles and ids may
now resolve them.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from feed.models import ExternalId, Provider, Series, SeriesKind, SeriesStatus
from feed.resolution import ResolveSummary, retry_releases
from feed.search import search_text_for, sort_title_for
from tsundoku.db import insert_rows, update_rows

# `IN (...)` chunk for loading existing ids and series; see feed.coverage.CHUNK.
CHUNK = 900
# Rows per bulk INSERT/UPDATE statement, and pending series before a write.
WRITE_BATCH = 500

MAX_TITLE_LENGTH = Series._meta.get_field("canonical_title").max_length
MAX_URL_LENGTH = Series._meta.get_field("cover_url").max_length
MAX_EXTERNAL_ID_LENGTH = ExternalId._meta.get_field("external_id").max_length
YEAR_RANGE = (1000, 9999)
PROVIDERS = tuple(Provider.values)

_url_validator = URLValidator(schemes=["http", "https"])


@dataclass
class ImportReport:
    """What one import did: series created, updated or unchanged, records skipped, and why."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    retried: ResolveSummary | None = None

    @property
    def loaded(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class SeriesRecord:
    """One validated record: model field values for the keys it carried, and its ids."""

    label: str
    values: dict[str, Any]
    external_ids: dict[str, str]

    @property
    def title(self) -> str:
        return self.values["canonical_title"]


class RecordError(ValueError):
    """A record failed validation; the message names its position and fields."""


def import_series(path_or_stream: str | os.PathLike | IO) -> ImportReport:
    """Import series records from a JSON file (list or JSON lines) and retry pending releases."""
    report = ImportReport()
    try:
        text = _read_text(path_or_stream)
    except UnicodeDecodeError as exc:
        report.errors.append(f"file is not UTF-8 text ({exc.reason} at byte {exc.start})")
        return report

    records: list[SeriesRecord] = []
    for label, raw in _raw_records(text, report):
        try:
            records.append(validate_record(label, raw))
        except RecordError as exc:
            report.errors.append(str(exc))
            report.skipped += 1

    _Catalog(report).load(records)
    if report.created or report.updated:
        report.retried = retry_releases()
    return report


def validate_record(label: str, raw: Any) -> SeriesRecord:
    """Check one decoded record; raise `RecordError` naming every bad field."""
    if not isinstance(raw, dict):
        raise RecordError(f"{label}: expected an object, got {_json_type(raw)}")
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, (field_name, check) in _FIELDS.items():
        if key not in raw:
            continue
        try:
            values[field_name] = check(raw[key])
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
    if "canonicalTitle" not in raw:
        problems.insert(0, "canonicalTitle: required")
    try:
        external_ids = _external_ids(raw.get("externalIds") or {})
    except ValueError as exc:
        problems.append(f"externalIds: {exc}")
        external_ids = {}
    if problems:
        title = raw.get("canonicalTitle")
        named = f" ({title!r})" if isinstance(title, str) and title.strip() else ""
        raise RecordError(f"{label}{named}: {'; '.join(problems)}")
    return SeriesRecord(label=label, values=values, external_ids=external_ids)


class _Catalog:
    """The slice of the catalog an import touches, loaded once and kept in step with writes.

    Records are applied in file order to this in-memory slice; the writes
    they call for are queued and sent set-based (`bulk_create`/`bulk_update`,
    `WRITE_BATCH` rows a statement) when the queue fills, before a lookup
    that reads the database, and at the end. A record therefore sees every
    record before it exactly as if each had been saved on its own, and a bad
    record is still reported by its own label.
    """

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        # Keys are series ids, or negative placeholders for series not inserted yet.
        self.series_id_by_external_id: dict[tuple[str, str], int] = {}
        self.ids_by_series: dict[int, dict[str, ExternalId]] = defaultdict(dict)
        self.series: dict[int, Series] = {}
        self._next_placeholder = -1
        self._new_series: list[int] = []
        self._changed_fields: dict[int, set[str]] = defaultdict(set)
        self._added_ids: list[ExternalId] = []  # new ids of series already in the database

    def load(self, records: list[SeriesRecord]) -> None:
        self._preload({pair for record in records for pair in record.external_ids.items()})
        # One transaction: fast on SQLite, and a write clash with a concurrent
        # import rolls the whole file back instead of leaving half of it.
        with transaction.atomic():
            for record in records:
                try:
                    outcome = self._apply(record)
                except RecordError as exc:
                    self.report.errors.append(str(exc))
                    self.report.skipped += 1
                    continue
                setattr(self.report, outcome, getattr(self.report, outcome) + 1)
                pending = len(self._new_series) + len(self._changed_fields) + len(self._added_ids)
                if pending >= WRITE_BATCH:
                    self._flush()
            self._flush()

    def _preload(self, pairs: set[tuple[str, str]]) -> None:
        by_provider: dict[str, list[str]] = defaultdict(list)
        for provider, external_id in pairs:
            by_provider[provider].append(external_id)
        for provider, external_ids in by_provider.items():
            for chunk in _chunks(sorted(external_ids)):
                rows = ExternalId.objects.filter(
                    provider=provider, external_id__in=chunk
                ).values_list("external_id", "series_id")
                for external_id, series_id in rows:
                    self.series_id_by_external_id[(provider, external_id)] = series_id
        series_ids = sorted(set(self.series_id_by_external_id.values()) - set(self.series))
        for chunk in _chunks(series_ids):
            # Only what a record can change: the coverage JSON and the rest stay unread.
            self.series.update(Series.objects.only(*RECORD_FIELDS).in_bulk(chunk))
            for row in ExternalId.objects.filter(series_id__in=chunk):
                self.ids_by_series[row.series_id][row.provider] = row

    def _apply(self, record: SeriesRecord) -> str:
        """Create or update the record's series; return "created", "updated" or "unchanged"."""
        key = self._existing_series(record)
        if key is None:
            key = self._next_placeholder
            self._next_placeholder -= 1
            self.series[key] = Series(**record.values)
            self._new_series.append(key)
            self._set_external_ids(key, record.external_ids)
            return "created"
        series = self.series[key]
        changed = [name for name, value in record.values.items() if getattr(series, name) != value]
        for name in changed:
            setattr(series, name, record.values[name])
        if changed and key > 0:
            self._changed_fields[key].update(changed)
        ids_changed = self._set_external_ids(key, record.external_ids)
        return "updated" if changed or ids_changed else "unchanged"

    def _existing_series(self, record: SeriesRecord) -> int | None:
        """The key of the series this record updates, None for a new one."""
        matched = sorted(
            {
                self.series_id_by_external_id[pair]
                for pair in record.external_ids.items()
                if pair in self.series_id_by_external_id
            },
            key=self._sort_key,
        )
        if len(matched) > 1:
            clashing = [self.series[key] for key in matched]
            self._flush()  # so the message can name every series by its id
            names = ", ".join(f"#{series.pk} {series.canonical_title!r}" for series in clashing)
            raise RecordError(
                f"{record.label} ({record.title!r}): externalIds point at different "
                f"series ({names}); fix the ids or merge those series first"
            )
        if matched:
            return matched[0]
        if record.external_ids:
            return None
        # Without ids the title (and kind) is all that identifies a series, and
        # matching on it keeps re-importing the same file from duplicating it.
        # The database's own case folding decides, so what came before is written first.
        self._flush()
        same_title = list(
            Series.objects.filter(
                canonical_title__iexact=record.title,
                kind=record.values.get("kind", SeriesKind.MANGA),
            )[:2]
        )
        if len(same_title) > 1:
            raise RecordError(
                f"{record.label} ({record.title!r}): several series have this title; "
                "add externalIds to say which one"
            )
        if not same_title:
            return None
        found = self.series.setdefault(same_title[0].pk, same_title[0])
        if found.pk not in self.ids_by_series:
            for row in ExternalId.objects.filter(series_id=found.pk):
                self.ids_by_series[found.pk][row.provider] = row
        return found.pk

    def _sort_key(self, key: int) -> tuple[int, int]:
        # Existing series first, by id, then new ones in file order, as saved one by one.
        return (0, key) if key > 0 else (1, -key)

    def _set_external_ids(self, key: int, external_ids: dict[str, str]) -> bool:
        """Add the record's ids to the series, replacing its id for a provider; True if any."""
        current = self.ids_by_series[key]
        changed = False
        for provider, external_id in external_ids.items():
            row = current.get(provider)
            if row is not None and row.external_id == external_id:
                continue
            if row is None:
                row = current[provider] = ExternalId(provider=provider, external_id=external_id)
                if key > 0:
                    row.series_id = key
                    self._added_ids.append(row)
            else:
                self.series_id_by_external_id.pop((provider, row.external_id), None)
                row.external_id = external_id
                if row.pk is not None:
                    # Rare (a provider re-numbered), and written at once: a later record
                    # may take the freed id, and the unique index checks every row.
                    row.save(update_fields=["external_id"])
            self.series_id_by_external_id[(provider, external_id)] = key
            changed = True
        return changed

    def _flush(self) -> None:
        """Write what the records so far changed: one statement per `WRITE_BATCH` rows."""
        self._write_changed_series()
        self._write_new_series()
        if self._added_ids:
            insert_rows(self._added_ids)
            self._added_ids.clear()

    def _write_changed_series(self) -> None:
        by_fields: dict[frozenset[str], list[Series]] = defaultdict(list)
        for key, names in self._changed_fields.items():
            series = self.series[key]
            if {"canonical_title", "alternate_titles"} & names:
                _set_search_fields(series)
                names |= {"search_text", "sort_title"}
            by_fields[frozenset(names)].append(series)
        for names, rows in by_fields.items():
            update_rows(rows, sorted(names))
        self._changed_fields.clear()

    def _write_new_series(self) -> None:
        if not self._new_series:
            return
        placeholders = self._new_series
        self._new_series = []
        rows = [self.series[key] for key in placeholders]
        for series in rows:
            _set_search_fields(series)
        insert_rows(rows)
        new_ids: list[ExternalId] = []
        for placeholder, series in zip(placeholders, rows, strict=True):
            # From now on the series is known by its id, like any other.
            self.series[series.pk] = self.series.pop(placeholder)
            self.ids_by_series[series.pk] = ids = self.ids_by_series.pop(placeholder, {})
            for row in ids.values():
                row.series_id = series.pk
                self.series_id_by_external_id[(row.provider, row.external_id)] = series.pk
                new_ids.append(row)
        insert_rows(new_ids)


def _set_search_fields(series: Series) -> None:
    """What `Series.save` derives from the titles, for rows written in bulk."""
    series.search_text = search_text_for(series.canonical_title, series.alternate_titles)
    series.sort_title = sort_title_for(series.canonical_title)


def _read_text(path_or_stream: str | os.PathLike | IO) -> str:
    if hasattr(path_or_stream, "read"):
        data = path_or_stream.read()
    else:
        data = Path(path_or_stream).read_bytes()
    if isinstance(data, bytes):
        # utf-8-sig: files saved by Windows editors start with a byte-order mark.
        return data.decode("utf-8-sig")
    return data.removeprefix("\ufeff")


def _raw_records(text: str, report: ImportReport) -> Iterator[tuple[str, Any]]:
    """Decode records, labelled by position; undecodable input is reported on `report`."""
    document = text.strip()
    if not document:
        report.errors.append("file is empty: expected a JSON list or one JSON object per line")
        return
    if document.startswith("["):
        try:
            records = json.loads(document)
        except json.JSONDecodeError as exc:
            report.errors.append(
                f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            )
            return
        for index, record in enumerate(records):
            yield f"index {index}", record
        return
    try:
        # One pretty-printed object spread over several lines is a valid file too.
        yield "line 1", json.loads(document)
        return
    except json.JSONDecodeError:
        pass
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            report.errors.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
            report.skipped += 1
            continue
        yield f"line {number}", record


def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty string")
    value = " ".join(value.split())
    if len(value) > MAX_TITLE_LENGTH:
        raise ValueError(f"longer than {MAX_TITLE_LENGTH} characters")
    return value


def _string_list(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"expected a list of strings, got {_json_type(value)}")
    return list(dict.fromkeys(" ".join(item.split()) for item in value if item.strip()))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_json_type(value)}")
    return value.strip()


def _choice(choices: type[SeriesKind] | type[SeriesStatus], default: str):
    # `Choices.values` builds a new list on every access: read it once.
    allowed = tuple(choices.values)

    def check(value: Any) -> str:
        if value is None:
            return default
        token = value.strip().lower().replace("-", "_") if isinstance(value, str) else None
        if token not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return token

    return check


def _whole_number(low: int, high: int | None = None):
    def check(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number or null, got {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"{low} or more"
            raise ValueError(f"{value} is not {bound}")
        return value

    return check


def _cover_url(value: Any) -> str:
    url = _text(value)
    if not url:
        return ""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"longer than {MAX_URL_LENGTH} characters")
    try:
        _url_validator(url)
    except ValidationError:
        raise ValueError(f"{url!r} is not an http(s) URL") from None
    return url


def _external_ids(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f'expected an object like {{"anilist": "30002"}}, got {_json_type(value)}')
    external_ids: dict[str, str] = {}
    for provider, raw_id in value.items():
        token = provider.strip().lower()
        if token not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r} (known: {', '.join(PROVIDERS)})")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
            raise ValueError(f"{provider}: expected a string id, got {_json_type(raw_id)}")
        external_id = str(raw_id).strip()
        if not external_id:
            raise ValueError(f"{provider}: empty id")
        if len(external_id) > MAX_EXTERNAL_ID_LENGTH:
            raise ValueError(f"{provider}: longer than {MAX_EXTERNAL_ID_LENGTH} characters")
        external_ids[token] = external_id
    return external_ids


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _chunks(items: list) -> Iterator[list]:
    for offset in range(0, len(items), CHUNK):
        yield items[offset : offset + CHUNK]


# JSON key → (model field, check). Each check returns the cleaned value or
# raises ValueError with a message that reads after "<key>: ".
_FIELDS = {
    "canonicalTitle": ("canonical_title", _title),
    "alternateTitles": ("alternate_titles", _string_list),
    "kind": ("kind", _choice(SeriesKind, SeriesKind.MANGA)),
    "status": ("status", _choice(SeriesStatus, SeriesStatus.UNKNOWN)),
    "year": ("year", _whole_number(*YEAR_RANGE)),
    "description": ("description", _text),
    "coverUrl": ("cover_url", _cover_url),
    "totalVolumes": ("total_volumes", _whole_number(0)),
    "totalChapters": ("total_chapters", _whole_number(0)),
    "genres": ("genres", _string_list),
}
RECORD_FIELDS = [field_name for field_name, _check in _FIELDS.values()]
