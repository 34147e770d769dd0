"""`tsundoku.db` tuple helpers: insert, update and read many rows without model objects."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feed.models import ExternalId, Series, SeriesOrigin
from tsundoku.db import insert_values, select_where_in, update_values


@pytest.mark.django_db
def test_inserted_tuples_get_ids_in_order_and_defaults_for_the_fields_not_named():
    rows = [(f"Title {number}", [f"Alt {number}"], number or None) for number in range(50)]
    ids = insert_values(Series, ["canonical_title", "alternate_titles", "year"], rows)
    assert ids == sorted(ids) and len(set(ids)) == 50
    stored = Series.objects.get(pk=ids[7])
    assert (stored.canonical_title, stored.alternate_titles, stored.year) == (
        "Title 7",
        ["Alt 7"],
        7,
    )
    assert stored.origin == SeriesOrigin.IMPORT and stored.volume_coverage == []
    assert stored.first_seen_at is not None
    assert Series.objects.get(pk=ids[0]).year is None


@pytest.mark.django_db
def test_many_rows_share_a_statement_even_past_the_parameter_limit(monkeypatch):
    monkeypatch.setattr("tsundoku.db._max_params", lambda database: 100)
    with CaptureQueriesContext(connection) as captured:
        ids = insert_values(Series, ["canonical_title"], [(f"T{n}",) for n in range(40)])
    assert len(ids) == 40
    # Series has 32 columns besides its id: 3 rows a statement at 100 parameters.
    assert len(captured.captured_queries) == 14
    assert list(Series.objects.order_by("pk").values_list("canonical_title", flat=True)) == [
        f"T{n}" for n in range(40)
    ]


@pytest.mark.django_db
def test_updated_tuples_change_only_the_named_fields(make_series):
    first, second = make_series("One", description="Kept."), make_series("Two")
    update_values(
        Series,
        ["canonical_title", "genres"],
        [(first.pk, "Uno", ["Drama"]), (second.pk, "Dos", [])],
    )
    first.refresh_from_db()
    assert (first.canonical_title, first.genres, first.description) == ("Uno", ["Drama"], "Kept.")
    assert Series.objects.get(pk=second.pk).canonical_title == "Dos"


@pytest.mark.django_db
def test_selected_rows_read_back_as_the_orm_reads_them(make_series, monkeypatch):
    monkeypatch.setattr("tsundoku.db._max_params", lambda database: 3)
    wanted = [
        make_series(f"Series {n}", alternate_titles=[f"Alt {n}"], anilist=str(n)) for n in range(5)
    ]
    other = make_series("Other", anilist="99")
    rows = select_where_in(
        Series, ["id", "canonical_title", "alternate_titles"], "id", [s.pk for s in wanted]
    )
    assert sorted(rows) == [(s.pk, s.canonical_title, s.alternate_titles) for s in wanted]
    ids = select_where_in(
        ExternalId,
        ["external_id", "series"],
        "external_id",
        ["1", "3", "99", "x"],
        provider="anilist",
    )
    assert sorted(ids) == [("1", wanted[1].pk), ("3", wanted[3].pk), ("99", other.pk)]
    assert select_where_in(ExternalId, ["external_id"], "external_id", ["1"], provider="mal") == []
    assert select_where_in(Series, ["id"], "id", []) == []
