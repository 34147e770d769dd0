"""The status rule (SPEC §5.3), and proof that its Python and SQL forms agree."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_sync.models import CodexLink
from codex_sync.overlay import filter_by_codex_status, with_codex
from codex_sync.status import (
    NO_GAP,
    CodexGap,
    CodexStatus,
    codex_gap,
    codex_status,
    codex_status_expression,
    refresh_link_status,
    surfaced_beyond,
)
from feed.models import Series
from feed.spans import highest, merge_spans, spans_to_json


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
present_numbers = st.one_of(
    st.integers(min_value=0, max_value=6).map(float),
    st.sampled_from([0.5, 2.5, 5.5, 10.1, 137.5]),
)
numbers = st.one_of(st.none(), present_numbers)
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
    stored = CodexLink.objects.values_list("series_id", "status")
    # A link saved on its own stores the Python rule's answer.
    assert dict(stored) == expected
    # The SQL expression, read from either side, agrees with it.
    from_series = dict(
        Series.objects.annotate(computed=codex_status_expression()).values_list("pk", "computed")
    )
    assert from_series == expected
    from_links = dict(
        CodexLink.objects.annotate(
            computed=codex_status_expression(link="", series="series")
        ).values_list("series_id", "computed")
    )
    assert from_links == expected
    # What the set-based writers store is that expression.
    CodexLink.objects.update(status=None)
    assert refresh_link_status() == len(expected)
    assert dict(stored) == expected
    # The badge (with_codex) and the filter both read the stored column.
    badges = dict(with_codex(Series.objects.all()).values_list("pk", "codex_status"))
    assert badges == expected
    for wanted in CodexStatus.ALL:
        filtered = set(
            filter_by_codex_status(Series.objects.all(), [wanted]).values_list("pk", flat=True)
        )
        assert filtered == {pk for pk, value in expected.items() if value == wanted}


# The gap rule, beside the status rule it must agree with.


def gap(volumes=(), chapters=(), lv=None, lc=None, ignore=False) -> CodexGap:
    return codex_gap(
        volume_coverage=volumes,
        chapter_coverage=chapters,
        local_max_volume=lv,
        local_max_chapter=lc,
        ignore_completion=ignore,
    )


def test_the_gap_is_what_surfaced_past_codex_on_each_axis():
    found = gap(volumes=[[1, 111]], chapters=[[1, 1176]], lv=108, lc=1134)
    assert found == CodexGap(volumes=((109.0, 111.0),), chapters=((1135.0, 1176.0),))


def test_ranges_wholly_past_codex_keep_their_own_start_and_holes_survive():
    found = gap(volumes=[[1, 5], [8, 9], [12, 14]], lv=6)
    assert found.volumes == ((8.0, 9.0), (12.0, 14.0))


@pytest.mark.parametrize(
    ("chapters", "owned", "expected"),
    [
        # An owned extra: the next whole chapter starts the gap.
        ([[1, 12]], 10.5, ((11.0, 12.0),)),
        # An extra past the last owned whole chapter is in the gap on its own.
        ([[10.5, 10.5]], 10, ((10.5, 10.5),)),
        # A range ending on an extra past what is owned keeps just that end.
        ([[10, 10.8]], 10.5, ((10.8, 10.8),)),
        # Owning exactly the highest extra: caught up.
        ([[1, 137.5]], 137.5, ()),
        ([[137, 137.5]], 137, ((137.5, 137.5),)),
    ],
)
def test_fractional_chapters(chapters, owned, expected):
    assert gap(chapters=chapters, lc=owned).chapters == expected


def test_a_one_axis_series_has_a_gap_on_that_axis_only():
    volumes_only = gap(volumes=[[1, 12]], chapters=[], lv=10, lc=95)
    assert volumes_only == CodexGap(volumes=((11.0, 12.0),), chapters=())
    chapters_only = gap(volumes=[], chapters=[[1, 120]], lv=None, lc=100)
    assert chapters_only == CodexGap(volumes=(), chapters=((101.0, 120.0),))


def test_an_axis_codex_has_no_number_for_has_no_gap():
    assert not gap(volumes=[[1, 12]], lv=None)
    assert gap(volumes=[[1, 12]], chapters=[[1, 50]], lv=None, lc=40).volumes == ()


def test_tracking_off_has_no_gap():
    assert gap(volumes=[[1, 111]], chapters=[[1, 1176]], lv=108, lc=1134, ignore=True) == NO_GAP


def test_a_reversed_span_is_read_in_order():
    assert surfaced_beyond([[12, 1]], 10) == ((11.0, 12.0),)


spans = st.lists(
    # Built without None rather than filtered: filtering rejected enough draws
    # to trip hypothesis's "filter_too_much" health check on random seeds.
    st.tuples(present_numbers, present_numbers),
    max_size=4,
)


@settings(max_examples=500, deadline=None)
@given(
    volume_spans=spans,
    chapter_spans=spans,
    local_volume=volumes,
    local_chapter=numbers,
    ignore=st.booleans(),
)
def test_a_gap_exists_exactly_when_the_status_is_behind(
    volume_spans, chapter_spans, local_volume, local_chapter, ignore
):
    volume_coverage = spans_to_json(merge_spans(volume_spans))
    chapter_coverage = spans_to_json(merge_spans(chapter_spans))
    found = gap(volume_coverage, chapter_coverage, local_volume, local_chapter, ignore)
    rule = status(
        highest(merge_spans(volume_spans)),
        highest(merge_spans(chapter_spans)),
        local_volume,
        local_chapter,
        ignore,
    )
    assert bool(found) == (rule == CodexStatus.BEHIND)
    # Nothing Codex owns is in the gap, and every surfaced end above it is.
    for axis, owned, coverage in (
        (found.volumes, local_volume, volume_coverage),
        (found.chapters, local_chapter, chapter_coverage),
    ):
        assert all(start > owned and end >= start for start, end in axis)
        if not ignore and owned is not None:
            assert {end for _, end in axis} == {end for _, end in coverage if end > owned}
