"""The status rule (SPEC §5.3), and proof that its Python and SQL forms agree."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_sync.models import CodexLink
from codex_sync.overlay import with_codex
from codex_sync.status import CodexStatus, codex_status
from feed.models import Series


def status(hv=None, hc=None, lv=None, lc=None, ignore=False) -> str:
    return codex_status(
        highest_volume=hv,
        highest_chapter=hc,
        local_max_volume=lv,
        local_max_chapter=lc,
        ignore_completion=ignore,
    )


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"hv": 10, "lv": 3, "ignore": True}, CodexStatus.IGNORED),
        ({"hv": 10, "lv": 9}, CodexStatus.BEHIND),
        ({"hv": 10, "lv": 10}, CodexStatus.COMPLETE),
        ({"hv": 10, "lv": 12}, CodexStatus.COMPLETE),
        ({"hc": 137.5, "lc": 137}, CodexStatus.BEHIND),
        ({"hc": 137.5, "lc": 137.5}, CodexStatus.COMPLETE),
        ({"hv": 10, "lv": 10, "hc": 120, "lc": 100}, CodexStatus.BEHIND),
        ({"hv": 10, "lv": None}, CodexStatus.PRESENT),
        ({"hv": 10, "lv": None, "hc": 50, "lc": 50}, CodexStatus.COMPLETE),
        ({"hv": None, "hc": None, "lv": 5, "lc": 5}, CodexStatus.COMPLETE),
        ({}, CodexStatus.COMPLETE),
        ({"hv": None, "lv": 2, "hc": 30, "lc": None}, CodexStatus.PRESENT),
    ],
)
def test_the_rule_on_hand_picked_cases(inputs, expected):
    assert status(**inputs) == expected


def test_volumes_owned_never_affects_the_status(make_series):
    series = make_series(highest_volume=10)
    link = CodexLink.objects.create(
        series=series, codex_series_uuid=uuid.uuid4(), local_max_volume=10, volumes_owned=2
    )
    assert with_codex(Series.objects.filter(pk=series.pk)).get().codex_status == "complete"
    link.volumes_owned = 500
    link.save()
    assert with_codex(Series.objects.filter(pk=series.pk)).get().codex_status == "complete"


def test_a_series_without_a_link_has_no_status_in_sql(make_series):
    series = make_series(highest_volume=3)
    assert with_codex(Series.objects.filter(pk=series.pk)).get().codex_status is None


# Small grids make equal values (the strict `<` edge) and nulls common.
numbers = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=6).map(float),
    st.sampled_from([0.5, 2.5, 5.5, 10.1, 137.5]),
)
volumes = st.one_of(st.none(), st.integers(min_value=0, max_value=6))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(
        st.tuples(numbers, numbers, volumes, numbers, st.booleans()), min_size=1, max_size=12
    )
)
def test_python_rule_and_sql_expression_agree(db, rows):
    Series.objects.all().delete()
    expected = {}
    for highest_volume, highest_chapter, local_volume, local_chapter, ignore in rows:
        series = Series.objects.create(
            canonical_title="s",
            highest_volume=highest_volume,
            highest_chapter=highest_chapter,
            ignore_completion=ignore,
        )
        CodexLink.objects.create(
            series=series,
            codex_series_uuid=uuid.uuid4(),
            local_max_volume=local_volume,
            local_max_chapter=local_chapter,
        )
        expected[series.pk] = status(
            highest_volume, highest_chapter, local_volume, local_chapter, ignore
        )
    from_sql = dict(with_codex(Series.objects.all()).values_list("pk", "codex_status"))
    assert from_sql == expected
