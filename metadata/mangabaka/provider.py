"""`MangaBakaProvider`: the metadata seam answered by the dump first, the live API second.

Lookup chain for `get` and `find_by_foreign_id`: remembered miss → offline
dump → live API (when `api_fallback` is on) → remember the miss. Searches go
to the dump when one is installed, else to the API when it is on, and are
never remembered. API errors propagate as `ProviderError` and are *not*
recorded as misses: an outage is not an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from metadata.mangabaka.api import MangaBakaApi
from metadata.mangabaka.mapping import PROVIDER, SOURCE_COLUMNS
from metadata.mangabaka.refresh import dump_path
from metadata.mangabaka.store import DumpStore
from metadata.negative_cache import NegativeCache
from metadata.records import SeriesMetadata


class MangaBakaProvider:
    """MangaBaka behind `metadata.providers.MetadataProvider`."""

    name = PROVIDER

    def __init__(
        self,
        *,
        store: DumpStore,
        api: MangaBakaApi | None,
        negative_cache: NegativeCache,
    ) -> None:
        self.store = store
        self.api = api
        self.negative_cache = negative_cache

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, path: Path | None = None, **api_options: Any
    ) -> MangaBakaProvider:
        return cls(
            store=DumpStore(path or dump_path()),
            api=MangaBakaApi.from_config(config, **api_options) if config["api_fallback"] else None,
            negative_cache=NegativeCache(
                PROVIDER, timedelta(days=config["negative_cache_ttl_days"])
            ),
        )

    def available(self) -> bool:
        """Whether anything can answer: an installed dump or the live API."""
        return self.api is not None or self.store.is_installed()

    def close(self) -> None:
        self.store.close()

    # -- the seam -----------------------------------------------------------------

    def get(self, external_id: str) -> SeriesMetadata | None:
        external_id = str(external_id).strip()
        key = f"id:{external_id}"
        if self.negative_cache.is_known_miss(key):
            return None
        found = self.store.get(external_id)
        if found is None and self.api is not None:
            record = self.api.get_series(external_id)
            found = record.metadata if record else None
        if found is None:
            self.negative_cache.remember_miss(key)
        return found

    def search(self, query: str, limit: int = 10) -> list[SeriesMetadata]:
        if self.store.is_installed():
            return self.store.search(query, limit)
        if self.api is not None:
            return [record.metadata for record in self.api.search(query, limit)]
        return []

    def find_by_foreign_id(self, provider: str, external_id: str) -> SeriesMetadata | None:
        external_id = str(external_id).strip()
        if provider not in SOURCE_COLUMNS or not external_id:
            return None
        key = f"{provider}:{external_id}"
        if self.negative_cache.is_known_miss(key):
            return None
        found = self.store.find_by_source(provider, external_id)
        if found is None and self.api is not None:
            record = self.api.by_source(provider, external_id)
            found = record.metadata if record else None
        if found is None:
            self.negative_cache.remember_miss(key)
        return found
