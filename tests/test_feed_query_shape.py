"""Admin pages count and sort without the Codex join unless a Codex filter needs it.

At 100k series the join made the admin's COUNT ten times slower and a
filtered sort twenty times slower; the overlay is added to the shown rows only.
"""

from __future__ import annotations

import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from codex_sync.models import CodexLink, ConnectionStatus
from tests.helpers import ADMIN_TOKEN

CODEX_TABLE = CodexLink._meta.db_table


def admin_queries(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {ADMIN_TOKEN}")
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def setup_overlay(make_series):
    ConnectionStatus.objects.create(
        pk=ConnectionStatus.SINGLETON_ID, last_success_at=timezone.now()
    )
    for number in range(6):
        series = make_series(highest_volume=5)
        if number % 2:
            CodexLink.objects.create(
                series=series, codex_series_uuid=uuid.uuid4(), local_max_volume=number
            )


def test_without_a_codex_filter_only_the_page_rows_join_codex(client, make_series):
    setup_overlay(make_series)
    queries = admin_queries(client, "/api/v1/series?status=unknown&sort=highest_volume")
    count = next(sql for sql in queries if "COUNT(" in sql)
    page = next(sql for sql in queries if "COUNT(" not in sql and "feed_series" in sql)
    assert CODEX_TABLE not in count
    assert CODEX_TABLE in page  # the overlay is still there for the shown rows


def test_a_codex_filter_joins_for_the_count_so_totals_stay_right(client, make_series):
    setup_overlay(make_series)
    queries = admin_queries(client, "/api/v1/series?codexStatus=behind")
    count = next(sql for sql in queries if "COUNT(" in sql)
    assert CODEX_TABLE in count


def page_select(client, path: str, **headers) -> str:
    """The statement that reads a page's series rows."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200
    return next(
        query["sql"]
        for query in captured.captured_queries
        if '"feed_series"."canonical_title"' in query["sql"]
    )


def test_list_pages_do_not_read_what_a_row_never_shows(client, make_series):
    make_series(description="A long synopsis.", volume_coverage=[[1, 3]])
    for path in ("/", "/?view=list", "/api/v1/series"):
        sql = page_select(client, path)
        for column in ("description", "alternate_titles", "search_text", "chapter_coverage"):
            assert f'"feed_series"."{column}"' not in sql, (path, column)


def test_the_admins_list_pages_read_the_coverage_the_codex_gap_needs(client, make_series):
    setup_overlay(make_series)
    admin = {"HTTP_AUTHORIZATION": f"Bearer {ADMIN_TOKEN}"}
    for path in ("/", "/api/v1/series"):
        sql = page_select(client, path, **admin)
        assert '"feed_series"."chapter_coverage"' in sql, path
        assert '"feed_series"."description"' not in sql, path


def test_a_codex_filter_is_evaluated_once_for_the_page_rows(client, make_series):
    setup_overlay(make_series)
    queries = admin_queries(client, "/api/v1/series?codexStatus=behind")
    page = next(sql for sql in queries if '"feed_series"."canonical_title"' in sql)
    # The statuses are read once, in the subquery of sorted, limited ids; the
    # outer query only joins each shown row's link for the overlay.
    assert page.count(f'FROM "{CODEX_TABLE}"') == 1, page
