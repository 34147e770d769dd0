"""`link_store.link_changes`: what a sweep writes and removes, against the stored links."""

from __future__ import annotations

import json

from codex_sync.link_store import LinkChanges, link_changes, rows_json, stored_links


def row(series_id: int, uuid: str = "a" * 32, chapter: float | None = 1.0) -> list:
    return [series_id, uuid, "mangabaka", str(series_id), 1, chapter, 1]


def changed(write: list, remove: list, stored: int, new: int) -> LinkChanges:
    return LinkChanges(
        write_json=rows_json(write),
        written=len(write),
        remove=remove,
        stored=stored,
        new=new,
    )


def test_only_new_and_changed_rows_are_written_and_missing_ones_removed():
    stored = stored_links(json.dumps([row(1), row(2), row(3), row(9)]))

    changes = link_changes([row(1), row(2, chapter=2.5), row(4), row(5, uuid="b" * 32)], stored)

    assert changes == changed([row(2, chapter=2.5), row(4), row(5, uuid="b" * 32)], [3, 9], 4, 2)


def test_an_unchanged_index_writes_and_removes_nothing():
    rows = [row(series_id, chapter=chapter) for series_id, chapter in ((1, None), (2, 12.5))]

    changes = link_changes(rows, stored_links(json.dumps(rows)))

    assert changes == changed([], [], stored=2, new=0)


def test_a_first_sweep_writes_every_row():
    changes = link_changes([row(2), row(1)], stored_links("[]"))

    assert changes == changed([row(2), row(1)], [], stored=0, new=2)


def test_a_count_the_database_spelt_as_a_whole_number_compares_equal():
    # PostgreSQL's JSON writes the double 100.0 as 100; the row a sweep builds has 100.0.
    stored = stored_links('[[1,"' + "a" * 32 + '","mangabaka","1",1,100,null]]')

    changes = link_changes([[1, "a" * 32, "mangabaka", "1", 1, 100.0, None]], stored)

    assert changes == changed([], [], stored=1, new=0)


def test_the_links_to_remove_come_sorted():
    stored = stored_links(json.dumps([row(9), row(3), row(5)]))

    changes = link_changes([row(5)], stored)

    assert changes.remove == [3, 9]


def test_the_comparison_leaves_the_stored_links_as_they_were():
    stored = stored_links(json.dumps([row(1), row(2)]))

    link_changes([row(1, chapter=9.0)], stored)

    assert stored == {1: row(1), 2: row(2)}
