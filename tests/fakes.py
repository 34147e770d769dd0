"""Test doubles shared by several test modules (import from here, never from a test module)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace

from rapidfuzz import fuzz

from feed.titles import clean_title
from metadata.providers import ProviderError
from metadata.records import SeriesMetadata


def metadata(external_id: str, title: str, **fields) -> SeriesMetadata:
    """A MangaBaka-like record with a content hash over its fields, as providers make them."""
    record = SeriesMetadata(provider="mangabaka", external_id=external_id, title=title, **fields)
    payload = json.dumps(asdict(record), sort_keys=True, default=str).encode()
    return replace(record, content_hash="sha256:" + hashlib.sha256(payload).hexdigest())


@dataclass
class FakeProvider:
    """An in-memory metadata provider that records every question it is asked."""

    records: list[SeriesMetadata] = field(default_factory=list)
    name: str = "mangabaka"
    failing: bool = False
    calls: list[tuple] = field(default_factory=list)

    def _answer(self, *call):
        self.calls.append(call)
        if self.failing:
            raise ProviderError("MangaBaka is unreachable (connection refused)")

    def get(self, external_id: str) -> SeriesMetadata | None:
        self._answer("get", external_id)
        return next((r for r in self.records if r.external_id == external_id), None)

    def search(self, query: str, limit: int = 10) -> list[SeriesMetadata]:
        self._answer("search", query, limit)
        scored = []
        for record in self.records:
            titles = [record.title, *record.alternate_titles]
            score = max(fuzz.partial_ratio(query, clean_title(t)) for t in titles)
            if score >= 60:
                scored.append((score, record))
        scored.sort(key=lambda pair: -pair[0])
        return [record for _score, record in scored[:limit]]

    def find_by_foreign_id(self, provider: str, external_id: str) -> SeriesMetadata | None:
        self._answer("find_by_foreign_id", provider, external_id)
        return next((r for r in self.records if r.foreign_ids.get(provider) == external_id), None)
