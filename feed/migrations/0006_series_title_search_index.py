"""Title search served by an index on SQLite: an FTS5 trigram table over search_text.

`feed.search.filter_by_query` asks it for every query word of three or more
characters (a trigram's length) instead of `search_text LIKE '%word%'`, which
no B-tree can seek and so read every series. The table holds no text of its
own (external content: `content='feed_series'`); triggers keep its index in
step with every write to feed_series, including the bulk INSERT/UPDATE
statements of `tsundoku.db` that bypass `Series.save`. `case_sensitive 1`:
search_text and the query are both folded in Python already (`fold_text`), so
the index compares characters exactly and finds what a substring test finds —
SQLite's own case folding differs from Python's `casefold` and would find more.

PostgreSQL keeps the LIKE condition; nothing is created there.

A later migration that makes Django rebuild feed_series on SQLite (most
AlterField/RemoveField do: new table, copy, drop, rename) drops these
triggers with the old table: such a migration must run CREATE's triggers and
the 'rebuild' again (tests/test_search_index.py fails on writes otherwise).
"""

from django.db import migrations

# The name feed.search queries (kept in step with SEARCH_INDEX there).
TABLE = "feed_series_search"

CREATE = [
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5("
    "search_text, content='feed_series', content_rowid='id',"
    " tokenize='trigram case_sensitive 1')",
    # External content: the index is told the old text to remove it, the new to add it.
    f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON feed_series BEGIN"
    f" INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON feed_series BEGIN"
    f" INSERT INTO {TABLE}({TABLE}, rowid, search_text)"
    f" VALUES ('delete', old.id, old.search_text); END",
    # Only writes that change search_text touch the index (status, counts and
    # dates are updated far more often than titles).
    f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF search_text ON feed_series"
    f" WHEN old.search_text IS NOT new.search_text BEGIN"
    f" INSERT INTO {TABLE}({TABLE}, rowid, search_text)"
    f" VALUES ('delete', old.id, old.search_text);"
    f" INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    # The series already stored.
    f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')",
]

DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_update",
    f"DROP TABLE IF EXISTS {TABLE}",
]


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("feed", "0005_filter_sort_indexes"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index),
    ]
