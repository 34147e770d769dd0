"""`tsundoku.db.insert_rows`: many rows a statement, ids in order, values as the ORM stores them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feed.models import Series
from tsundoku.db import insert_rows


@pytest.mark.django_db
def test_rows_get_their_ids_in_order_and_read_back_as_the_orm_wrote_them():
    seen = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    objects = [
        Series(
            canonical_title=f"Title {number}",
            alternate_titles=[f"Alt {number}", "ベルセルク"],
            volume_coverage=[[1, number + 0.5]],
            first_seen_at=seen,
            highest_volume=number or None,
        )
        for number in range(120)
    ]
    with CaptureQueriesContext(connection) as captured:
        insert_rows(objects)
    assert len(captured.captured_queries) < 120 // 10  # many rows per statement
    assert [obj.pk for obj in objects] == sorted(obj.pk for obj in objects)
    assert all(not obj._state.adding for obj in objects)
    stored = Series.objects.get(pk=objects[7].pk)
    assert stored.canonical_title == "Title 7"
    assert stored.alternate_titles == ["Alt 7", "ベルセルク"]
    assert stored.volume_coverage == [[1, 7.5]]
    assert stored.first_seen_at == seen
    assert Series.objects.get(pk=objects[0].pk).highest_volume is None


@pytest.mark.django_db
def test_nothing_to_insert_sends_no_statement():
    with CaptureQueriesContext(connection) as captured:
        insert_rows([])
    assert captured.captured_queries == []
