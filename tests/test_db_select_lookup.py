"""`tsundoku.db.select_lookup_json`: a table read as nested lookups, built by the database."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feed.models import ExternalId
from tsundoku.db import select_lookup_json

TABLE = ExternalId._meta.db_table


@pytest.mark.django_db
def test_every_row_lands_under_its_group_and_key_in_one_query(make_series):
    first = make_series("First", mangabaka="1", anilist="10")
    second = make_series("Second", mangabaka="2")
    third = make_series("Third", mal="30", anilist=" 11 ")

    with CaptureQueriesContext(connection) as queries:
        lookup = json.loads(select_lookup_json("provider", "external_id", "series_id", TABLE))

    assert lookup == {
        "mangabaka": {"1": first.pk, "2": second.pk},
        "anilist": {"10": first.pk, " 11 ": third.pk},
        "mal": {"30": third.pk},
    }
    assert len(queries) == 1


@pytest.mark.django_db
def test_an_empty_table_is_an_empty_lookup():
    assert json.loads(select_lookup_json("provider", "external_id", "series_id", TABLE)) == {}
