"""Exports stream: what a row leaves behind does not pile up with the catalog's size."""

from __future__ import annotations

import gc
import os
import uuid

import pytest

from codex_sync.models import CodexLink
from exports.pipeline import build_spec, write_export
from feed.models import Release, Resolution

pytestmark = pytest.mark.django_db


def cyclic_garbage_after_export(export_type: str) -> int:
    """Objects only the cycle collector could free, left by one admin export."""
    spec = build_spec(export_type, "json", None, {}, is_admin=True)
    gc.collect()
    gc.disable()
    try:
        with open(os.devnull, "w", encoding="utf-8") as sink:
            write_export(spec, sink)
        return gc.collect()
    finally:
        gc.enable()


@pytest.mark.parametrize("export_type", ["series", "releases", "both"])
def test_rows_leave_no_reference_cycles_behind(make_series, export_type):
    def add(count: int) -> None:
        for _ in range(count):
            series = make_series(anilist=str(uuid.uuid4()), highest_volume=3.0)
            CodexLink.objects.create(
                series=series, codex_series_uuid=uuid.uuid4(), local_max_volume=2
            )
            Release.objects.create(
                external_id=str(uuid.uuid4()),
                source_name="Nyaa",
                title=f"{series.canonical_title} v03",
                series=series,
                resolution=Resolution.RESOLVED,
            )

    add(5)
    cyclic_garbage_after_export(export_type)  # warm caches (compiled queries, imports)
    small = cyclic_garbage_after_export(export_type)
    add(45)
    assert cyclic_garbage_after_export(export_type) == small
