"""The status stored on each Codex link stays the rule's answer whichever side changes.

`CodexLink.status` is what the `codexStatus` filter and the badges read; the
invariant checked after every writer is: stored status == the status rule
(`codex_status_expression`) evaluated now, for every link.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from codex_sync.linking import link_series, set_ignore_completion, unlink_series
from codex_sync.models import CodexLink
from codex_sync.overlay import filter_by_codex_status
from codex_sync.status import CodexStatus, codex_status_expression, refresh_link_status
from codex_sync.sweep import run_sweep
from feed.coverage import recompute_coverage
from feed.models import Release, Resolution, Series
from feed.resolution import link_release
from feed.spans import parse_spans
from tests.helpers import codex_item


def stored_and_computed() -> dict[int, tuple[str | None, str]]:
    return {
        series_id: (stored, computed)
        for series_id, stored, computed in CodexLink.objects.annotate(
            computed=codex_status_expression(link="", series="series")
        ).values_list("series_id", "status", "computed")
    }


def assert_stored_is_the_rule() -> dict[int, str]:
    rows = stored_and_computed()
    assert rows, "no links to check"
    assert {pk: stored for pk, (stored, _) in rows.items()} == {
        pk: computed for pk, (_, computed) in rows.items()
    }
    return {pk: stored for pk, (stored, _) in rows.items()}


def ingest(series: Series, title: str) -> Release:
    """A release carrying `title`'s numbers, resolved to `series` as ingestion does."""
    spans = parse_spans(title).to_json()
    release = Release.objects.create(
        external_id=str(uuid.uuid4()),
        source_name="nyaa-test",
        title=title,
        volume_spans=spans["volumes"],
        chapter_spans=spans["chapters"],
    )
    return link_release(release, series)


def test_the_migration_backfill_and_refresh_fill_links_written_in_bulk(make_series):
    behind = make_series("Behind", highest_volume=10)
    caught_up = make_series("Caught up", highest_volume=10)
    # bulk_create skips save(), as the sweep's set-based writes do: nothing stored yet.
    CodexLink.objects.bulk_create(
        [
            CodexLink(series=behind, codex_series_uuid=uuid.uuid4(), local_max_volume=9),
            CodexLink(series=caught_up, codex_series_uuid=uuid.uuid4(), local_max_volume=10),
        ]
    )
    assert set(CodexLink.objects.values_list("status", flat=True)) == {None}

    assert refresh_link_status([behind.pk]) == 1
    assert CodexLink.objects.get(series=caught_up).status is None
    assert refresh_link_status() == 2
    assert assert_stored_is_the_rule() == {
        behind.pk: CodexStatus.BEHIND,
        caught_up.pk: CodexStatus.COMPLETE,
    }


def test_naming_many_series_refreshes_every_link_in_one_statement(
    make_series, monkeypatch, django_assert_num_queries
):
    """Past WHOLE_TABLE_FROM named series, one UPDATE of all links (a first sweep's case)."""
    monkeypatch.setattr("codex_sync.status.WHOLE_TABLE_FROM", 2)
    series = [make_series(f"Series {n}", highest_volume=10) for n in range(3)]
    CodexLink.objects.bulk_create(
        [
            CodexLink(series=one, codex_series_uuid=uuid.uuid4(), local_max_volume=9 + n)
            for n, one in enumerate(series)
        ]
    )
    with django_assert_num_queries(1):
        assert refresh_link_status([series[0].pk, series[1].pk]) == 3
    assert assert_stored_is_the_rule() == {
        series[0].pk: CodexStatus.BEHIND,
        series[1].pk: CodexStatus.COMPLETE,
        series[2].pk: CodexStatus.COMPLETE,
    }


def test_a_sweep_stores_the_status_of_every_link_it_writes(make_series, codex):
    berserk = make_series("Berserk", anilist="30002", highest_volume=41)
    frieren = make_series("Frieren", mal="126287", highest_chapter=140)
    codex.items = [
        codex_item(1, ("api:anilist", "30002"), volume=41, chapter=None, owned=41),
        codex_item(2, ("api:myanimelist", "126287"), volume=None, chapter=137.5, owned=None),
    ]
    run_sweep()
    assert assert_stored_is_the_rule() == {
        berserk.pk: CodexStatus.COMPLETE,
        frieren.pk: CodexStatus.BEHIND,
    }

    # Codex catches up on one and falls behind on the other.
    codex.items = [
        codex_item(1, ("api:anilist", "30002"), volume=40, chapter=None, owned=40),
        codex_item(2, ("api:myanimelist", "126287"), volume=None, chapter=140, owned=None),
    ]
    run_sweep()
    assert assert_stored_is_the_rule() == {
        berserk.pk: CodexStatus.BEHIND,
        frieren.pk: CodexStatus.COMPLETE,
    }


def test_links_a_sweep_inserts_go_in_with_every_kind_of_status(make_series, codex):
    """The status goes in with each row the sweep writes (no second pass): all four answers."""
    complete = make_series("Complete", anilist="1", highest_volume=10)
    behind = make_series("Behind", anilist="2", highest_chapter=50)
    present = make_series("Present", anilist="3", highest_volume=3)
    ignored = make_series("Ignored", anilist="4", highest_volume=9, ignore_completion=True)
    codex.items = [
        codex_item(1, ("api:anilist", "1"), volume=10, chapter=None, owned=10),
        codex_item(2, ("api:anilist", "2"), volume=None, chapter=49.5, owned=None),
        codex_item(3, ("api:anilist", "3"), volume=None, chapter=None, owned=None),
        codex_item(4, ("api:anilist", "4"), volume=1, chapter=None, owned=1),
    ]

    assert run_sweep().succeeded

    assert assert_stored_is_the_rule() == {
        complete.pk: CodexStatus.COMPLETE,
        behind.pk: CodexStatus.BEHIND,
        present.pk: CodexStatus.PRESENT,
        ignored.pk: CodexStatus.IGNORED,
    }


def test_ingesting_and_unlinking_releases_moves_the_stored_status(make_series):
    series = make_series("Vinland Saga")
    CodexLink.objects.create(series=series, codex_series_uuid=uuid.uuid4(), local_max_volume=12)
    assert assert_stored_is_the_rule() == {series.pk: CodexStatus.COMPLETE}

    ingest(series, "Vinland Saga v01-12")
    assert assert_stored_is_the_rule() == {series.pk: CodexStatus.COMPLETE}
    newer = ingest(series, "Vinland Saga v13-14")
    assert assert_stored_is_the_rule() == {series.pk: CodexStatus.BEHIND}
    assert list(filter_by_codex_status(Series.objects.all(), ["behind"])) == [series]

    # The release turns out to be noise: rejecting it drops the series' highest volume.
    newer.series = None
    newer.resolution = Resolution.REJECTED
    newer.save()
    recompute_coverage([series.pk])
    assert assert_stored_is_the_rule() == {series.pk: CodexStatus.COMPLETE}


def test_toggling_tracking_off_and_on_moves_the_stored_status(make_series):
    series = make_series("One Piece", highest_volume=111)
    CodexLink.objects.create(series=series, codex_series_uuid=uuid.uuid4(), local_max_volume=108)

    set_ignore_completion(series, True)
    assert assert_stored_is_the_rule() == {series.pk: CodexStatus.IGNORED}
    set_ignore_completion(series, False)
    assert assert_stored_is_the_rule() == {series.pk: CodexStatus.BEHIND}


def test_the_django_admin_toggle_moves_the_stored_status(rf, staff_user, make_series):
    from django.contrib.admin.sites import site

    series = make_series("Monster", highest_volume=18)
    CodexLink.objects.create(series=series, codex_series_uuid=uuid.uuid4(), local_max_volume=18)
    series_admin = site._registry[Series]
    request = rf.post("/")
    request.user = staff_user
    series.ignore_completion = True
    form = SimpleNamespace(changed_data=["ignore_completion"])
    series_admin.save_model(request, series, form, change=True)
    assert assert_stored_is_the_rule() == {series.pk: CodexStatus.IGNORED}


@pytest.mark.parametrize("owned", [None, 20, 25])
def test_hand_linking_stores_the_status_and_unlinking_removes_it(make_series, owned):
    series = make_series("Blame!", highest_volume=None if owned is None else 22)
    link_series(series, uuid.uuid4())
    CodexLink.objects.filter(series=series).update(local_max_volume=owned, status=None)
    refresh_link_status([series.pk])
    expected = CodexStatus.COMPLETE if owned in (None, 25) else CodexStatus.BEHIND
    assert assert_stored_is_the_rule() == {series.pk: expected}
    unlink_series(series)
    assert stored_and_computed() == {}
