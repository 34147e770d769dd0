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
from tsundoku.db import insert_values, select_where_in, update_values

# Records validated, looked up and written together: memory stays bounded by
# a batch, and each batch costs a handful of statements.
BATCH = 2000

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

    catalog = _Catalog(report)
    # One transaction: fast on SQLite, and a write clash with a concurrent
    # import rolls the whole file back instead of leaving half of it.
    with transaction.atomic():
        for batch in _batches(_valid_records(text, report)):
            catalog.load(batch)
    if report.created or report.updated:
        report.retried = retry_releases()
    return report


def _valid_records(text: str, report: ImportReport) -> Iterator[SeriesRecord]:
    """The file's records that pass validation; the others are reported on `report`."""
    for label, raw in _raw_records(text, report):
        try:
            yield validate_record(label, raw)
        except RecordError as exc:
            report.errors.append(str(exc))
            report.skipped += 1


def _batches(records: Iterator[SeriesRecord]) -> Iterator[list[SeriesRecord]]:
    batch: list[SeriesRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


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
    """The slice of the catalog one batch of records touches, as plain values.

    For each batch, the series its external ids name are read set-based (ids,
    then the record fields of those series: no model objects), the records
    are applied in file order to that slice, and the writes they call for are
    sent set-based at the end of the batch (`insert_values`, `update_values`),
    or earlier before a lookup that reads the database. A record therefore
    sees every record before it exactly as if each had been saved on its own,
    and a bad record is still reported by its own label. Once written, the
    batch is forgotten: the next one reads what it needs back.
    """

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        # Keys are series ids, or negative placeholders for series not inserted yet.
        self.series_id_by_external_id: dict[tuple[str, str], int] = {}
        self.ids_by_series: dict[int, dict[str, str]] = {}  # provider → external id
        self.series: dict[int, dict[str, Any]] = {}  # record field → value
        self._next_placeholder = -1
        self._inserted_as: dict[int, int] = {}  # placeholder → id it got
        self._new_series: list[int] = []
        self._changed_fields: dict[int, set[str]] = defaultdict(set)
        # New ids of series already in the database, by (series id, provider).
        self._added_ids: dict[tuple[int, str], str] = {}
        self._defaults = {
            name: Series._meta.get_field(name).get_default() for name in RECORD_FIELDS
        }

    def load(self, records: list[SeriesRecord]) -> None:
        self._preload({pair for record in records for pair in record.external_ids.items()})
        for record in records:
            try:
                outcome = self._apply(record)
            except RecordError as exc:
                self.report.errors.append(str(exc))
                self.report.skipped += 1
                continue
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        self._flush()
        self.series_id_by_external_id.clear()
        self.ids_by_series.clear()
        self.series.clear()
        self._inserted_as.clear()

    def _preload(self, pairs: set[tuple[str, str]]) -> None:
        by_provider: dict[str, list[str]] = defaultdict(list)
        for provider, external_id in pairs:
            by_provider[provider].append(external_id)
        for provider, external_ids in by_provider.items():
            rows = select_where_in(
                ExternalId,
                ["external_id", "series"],
                "external_id",
                sorted(external_ids),
                provider=provider,
            )
            for external_id, series_id in rows:
                self.series_id_by_external_id[(provider, external_id)] = series_id
        self._read_series(sorted(set(self.series_id_by_external_id.values()) - set(self.series)))

    def _read_series(self, series_ids: list[int]) -> None:
        """Read the record fields and ids of these series into the slice."""
        # Only what a record can change: the coverage JSON and the rest stay unread.
        for pk, *values in select_where_in(Series, ["id", *RECORD_FIELDS], "id", series_ids):
            self.series[pk] = dict(zip(RECORD_FIELDS, values, strict=True))
            self.ids_by_series[pk] = {}
        stored = select_where_in(
            ExternalId, ["series", "provider", "external_id"], "series", series_ids
        )
        for series_id, provider, external_id in stored:
            self.ids_by_series[series_id][provider] = external_id

    def _apply(self, record: SeriesRecord) -> str:
        """Create or update the record's series; return "created", "updated" or "unchanged"."""
        key = self._existing_series(record)
        if key is None:
            key = self._next_placeholder
            self._next_placeholder -= 1
            self.series[key] = {**self._defaults, **record.values}
            self._new_series.append(key)
            self._set_external_ids(key, record.external_ids)
            return "created"
        series = self.series[key]
        changed = [name for name, value in record.values.items() if series[name] != value]
        for name in changed:
            series[name] = record.values[name]
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
            self._flush()  # so the message can name every series by its id
            ids = [self._inserted_as.get(key, key) for key in matched]
            names = ", ".join(f"#{pk} {self.series[pk]['canonical_title']!r}" for pk in ids)
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
            ).values_list("pk", flat=True)[:2]
        )
        if len(same_title) > 1:
            raise RecordError(
                f"{record.label} ({record.title!r}): several series have this title; "
                "add externalIds to say which one"
            )
        if not same_title:
            return None
        if same_title[0] not in self.series:
            self._read_series(same_title)
        return same_title[0]

    def _sort_key(self, key: int) -> tuple[int, int]:
        # Existing series first, by id, then new ones in file order, as saved one by one.
        return (0, key) if key > 0 else (1, -key)

    def _set_external_ids(self, key: int, external_ids: dict[str, str]) -> bool:
        """Add the record's ids to the series, replacing its id for a provider; True if any."""
        current = self.ids_by_series.setdefault(key, {})
        changed = False
        for provider, external_id in external_ids.items():
            old = current.get(provider)
            if old == external_id:
                continue
            if old is not None:
                self.series_id_by_external_id.pop((provider, old), None)
            if key > 0 and old is not None and (key, provider) not in self._added_ids:
                # Rare (a provider re-numbered), and written at once: a later record
                # may take the freed id, and the unique index checks every row.
                ExternalId.objects.filter(series_id=key, provider=provider).update(
                    external_id=external_id
                )
            elif key > 0:
                self._added_ids[(key, provider)] = external_id
            current[provider] = external_id
            self.series_id_by_external_id[(provider, external_id)] = key
            changed = True
        return changed

    def _flush(self) -> None:
        """Write what the records so far changed, a few statements for the lot."""
        self._write_changed_series()
        self._write_new_series()
        if self._added_ids:
            rows = [
                (series_id, provider, external_id)
                for (series_id, provider), external_id in self._added_ids.items()
            ]
            insert_values(ExternalId, EXTERNAL_ID_FIELDS, rows)
            self._added_ids.clear()

    def _write_changed_series(self) -> None:
        by_fields: dict[frozenset[str], list[int]] = defaultdict(list)
        for key, names in self._changed_fields.items():
            if {"canonical_title", "alternate_titles"} & names:
                _set_search_fields(self.series[key])
                names |= set(SEARCH_FIELDS)
            by_fields[frozenset(names)].append(key)
        for names, keys in by_fields.items():
            ordered = sorted(names)
            rows = [(key, *(self.series[key][name] for name in ordered)) for key in keys]
            update_values(Series, ordered, rows)
        self._changed_fields.clear()

    def _write_new_series(self) -> None:
        if not self._new_series:
            return
        placeholders = self._new_series
        self._new_series = []
        rows = []
        for key in placeholders:
            values = self.series[key]
            _set_search_fields(values)
            rows.append(tuple(values[name] for name in NEW_SERIES_FIELDS))
        new_ids: list[tuple[int, str, str]] = []
        for placeholder, pk in zip(
            placeholders, insert_values(Series, NEW_SERIES_FIELDS, rows), strict=True
        ):
            # From now on the series is known by its id, like any other.
            self._inserted_as[placeholder] = pk
            self.series[pk] = self.series.pop(placeholder)
            self.ids_by_series[pk] = ids = self.ids_by_series.pop(placeholder, {})
            for provider, external_id in ids.items():
                self.series_id_by_external_id[(provider, external_id)] = pk
                new_ids.append((pk, provider, external_id))
        insert_values(ExternalId, EXTERNAL_ID_FIELDS, new_ids)


def _set_search_fields(values: dict[str, Any]) -> None:
    """What `Series.save` derives from the titles, for rows written in bulk."""
    values["search_text"] = search_text_for(values["canonical_title"], values["alternate_titles"])
    values["sort_title"] = sort_title_for(values["canonical_title"])


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
# What `Series.save` derives from the titles (see `_set_search_fields`).
SEARCH_FIELDS = ["search_text", "sort_title"]
NEW_SERIES_FIELDS = [*RECORD_FIELDS, *SEARCH_FIELDS]
EXTERNAL_ID_FIELDS = ["series", "provider", "external_id"]
