"""The Codex sweep against a mocked Codex: what it sends, what it stores, what it refuses.

`responses` stands in for Codex at `http://codex.test` (the test config's
base_url). Every failure test first stores links with a good sweep, then makes
Codex misbehave *and* report different counts, so a sweep that wrongly applied
anything would show up in the before/after snapshot of the link table.
"""

from __future__ import annotations

import gc
import threading

import pytest
import requests
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from codex_sync import overlay
from codex_sync.client import ExternalIndexBody
from codex_sync.models import (
    AuthState,
    CodexLink,
    ConflictKind,
    ConnectionStatus,
    HealthCheck,
    LinkKind,
    SyncConflict,
    SyncOutcome,
    SyncRun,
    SyncTrigger,
    UnmatchedCodexSeries,
)
from codex_sync.sweep import IndexDownload, run_sweep
from feed.models import Series
from tests.helpers import (
    CODEX_KEY,
    INFO_URL,
    FakeCodex,
    codex_item,
    codex_uuid,
    json_answer,
    query_of,
)
from tsundoku.db import LARGE_WRITE_CACHE_KIB


@pytest.fixture
def small_pages(tsundoku_config):
    """Two series a page, so a five-page index needs only ten series."""
    tsundoku_config(codex={"page_size": 2})


def link_snapshot() -> list[dict]:
    return list(CodexLink.objects.order_by("series_id").values())


@pytest.fixture
def ten_linked(db, make_series, codex, small_pages) -> list:
    """Ten catalog series, each matched by one Codex series; a first sweep stored them."""
    catalog = [make_series(f"Series {k}", mangabaka=str(1000 + k)) for k in range(10)]
    codex.items = [
        codex_item(k, ("plugin:mangabaka", str(1000 + k)), volume=k, chapter=k * 10.0, owned=k)
        for k in range(10)
    ]
    assert run_sweep().succeeded
    # What a broken sweep might wrongly store: every count changed.
    for item in codex.items:
        item["localMaxVolume"] = 99
    codex.mocked.calls.reset()
    return catalog


# ----------------------------------------------------------------- the happy path


def test_first_sweep_creates_auto_links_with_counts_and_the_matched_id(make_series, codex):
    berserk = make_series("Berserk", anilist="30002", mangabaka="77")
    frieren = make_series("Frieren", mal="126287")
    codex.items = [
        codex_item(1, ("api:anilist", "30002"), volume=41, chapter=364.0, owned=40),
        codex_item(2, ("api:myanimelist", "126287"), volume=None, chapter=137.5, owned=None),
    ]

    result = run_sweep()

    assert result.outcome == SyncOutcome.SUCCESS
    assert (result.fetched, result.linked, result.new_links, result.removed_links) == (2, 2, 2, 0)
    links = {link.series_id: link for link in CodexLink.objects.all()}
    assert set(links) == {berserk.pk, frieren.pk}
    assert str(links[berserk.pk].codex_series_uuid) == codex_uuid(1)
    assert links[berserk.pk].link_kind == LinkKind.AUTO
    assert (links[berserk.pk].matched_provider, links[berserk.pk].matched_external_id) == (
        "anilist",
        "30002",
    )
    assert links[berserk.pk].local_max_volume == 41
    assert links[berserk.pk].local_max_chapter == 364.0
    assert links[berserk.pk].volumes_owned == 40
    assert links[berserk.pk].synced_at is not None
    assert links[frieren.pk].matched_provider == "mal"
    assert links[frieren.pk].local_max_volume is None
    assert links[frieren.pk].local_max_chapter == 137.5
    status = ConnectionStatus.get()
    assert status.reachable is True
    assert status.auth_state == AuthState.OK
    assert (status.codex_name, status.codex_version) == ("codex", "1.40.0")
    assert (status.linked_count, status.fetched_count) == (2, 2)
    assert status.last_success_at is not None


def test_sweep_sends_the_key_only_to_the_index_with_camel_case_paging(
    make_series, codex, small_pages
):
    codex.items = [codex_item(k, ("plugin:mangabaka", str(k))) for k in range(5)]

    result = run_sweep()

    assert result.succeeded
    assert result.pages == 3
    (info_call,) = codex.info_calls
    assert "X-API-Key" not in info_call.request.headers
    assert "Authorization" not in info_call.request.headers
    assert [query_of(call) for call in codex.index_calls] == [
        {"page": [str(page)], "pageSize": ["2"]} for page in (1, 2, 3)
    ]
    for call in codex.index_calls:
        assert call.request.headers["X-API-Key"] == CODEX_KEY
        assert "Authorization" not in call.request.headers
        assert call.request.req_kwargs["timeout"] == 5
    # Preflight first, then each page exactly once.
    assert len(codex.mocked.calls) == 1 + 3
    assert codex.mocked.calls[0].request.url == INFO_URL


def test_the_default_page_size_is_codex_maximum_of_500(make_series, codex):
    run_sweep()

    assert query_of(codex.index_calls[0]) == {"page": ["1"], "pageSize": ["500"]}


def test_a_second_sweep_updates_counts_and_changes_nothing_else(make_series, codex):
    series = make_series("Vinland Saga", mangabaka="501")
    codex.items = [codex_item(1, ("plugin:mangabaka", "501"), volume=12, chapter=100.0, owned=12)]
    run_sweep()
    first = CodexLink.objects.get()

    codex.items[0].update(localMaxVolume=13, localMaxChapter=105.5, volumesOwned=13)
    second = run_sweep()
    third = run_sweep()

    link = CodexLink.objects.get()
    assert link.pk == first.pk
    assert link.series_id == series.pk
    assert (link.local_max_volume, link.local_max_chapter, link.volumes_owned) == (13, 105.5, 13)
    assert link.synced_at > first.synced_at  # the sweep that changed its counts
    assert link.created_at == first.created_at
    assert (second.new_links, second.removed_links, second.linked) == (0, 0, 1)
    assert (third.new_links, third.removed_links, third.linked) == (0, 0, 1)


# -------------------------------------------------------------- failures leave links


def test_outage_at_preflight_leaves_links_untouched(ten_linked, codex):
    before = link_snapshot()
    checks_before = HealthCheck.objects.count()
    codex.info_fails(body=requests.ConnectionError("connection refused"))

    result = run_sweep()

    assert result.outcome == SyncOutcome.PREFLIGHT_FAILED
    assert link_snapshot() == before
    assert codex.index_calls == []
    status = ConnectionStatus.get()
    assert status.reachable is False
    assert "Cannot reach Codex" in status.last_error
    assert status.last_error_at is not None
    # Reachability went from up to down: one history row for the change.
    assert HealthCheck.objects.count() == checks_before + 1
    latest = HealthCheck.objects.first()
    assert latest.reachable is False
    assert "Cannot reach Codex" in latest.error
    assert SyncRun.objects.first().error == status.last_error


def test_a_second_outage_in_a_row_adds_no_history_row(ten_linked, codex):
    codex.info_fails(body=requests.ConnectionError("connection refused"))
    run_sweep()
    checks_after_first_outage = HealthCheck.objects.count()

    run_sweep()

    assert HealthCheck.objects.count() == checks_after_first_outage


def test_rejected_key_is_auth_failed_and_leaves_links_untouched(ten_linked, codex):
    before = link_snapshot()
    codex.overrides[None] = json_answer(
        401, {"error": "Unauthorized", "message": "Invalid API key"}
    )

    result = run_sweep()

    assert result.outcome == SyncOutcome.AUTH_FAILED
    assert link_snapshot() == before
    status = ConnectionStatus.get()
    assert status.auth_state == AuthState.UNAUTHORIZED
    assert status.reachable is True
    assert status.last_error.startswith("API key rejected (401)")
    assert result.error == status.last_error


def test_key_without_series_read_is_forbidden_and_leaves_links_untouched(ten_linked, codex):
    before = link_snapshot()
    codex.overrides[None] = json_answer(
        403, {"error": "Forbidden", "message": "Missing required permission: SeriesRead"}
    )

    result = run_sweep()

    assert result.outcome == SyncOutcome.AUTH_FAILED
    assert link_snapshot() == before
    status = ConnectionStatus.get()
    assert status.auth_state == AuthState.FORBIDDEN
    assert status.last_error.startswith("API key lacks series:read (403)")


def test_failure_on_page_three_of_five_leaves_links_untouched(ten_linked, codex):
    before = link_snapshot()
    codex.overrides[3] = json_answer(
        500, {"error": "InternalServerError", "message": "An internal error occurred"}
    )

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "HTTP 500" in result.error
    assert "page 3" in result.error
    assert link_snapshot() == before
    assert [query_of(call)["page"] for call in codex.index_calls] == [["1"], ["2"], ["3"]]
    assert ConnectionStatus.get().last_error == result.error


def test_an_early_empty_page_leaves_links_untouched(ten_linked, codex):
    before = link_snapshot()
    codex.overrides[2] = json_answer(
        200, {"data": [], "page": 2, "pageSize": 2, "total": 10, "totalPages": 5}
    )

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "empty" in result.error
    assert link_snapshot() == before


def test_garbage_json_leaves_links_untouched(ten_linked, codex):
    before = link_snapshot()
    codex.overrides[2] = (200, {"Content-Type": "application/json"}, '{"data": [{"id": "5')

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "not with valid JSON" in result.error
    assert link_snapshot() == before


def test_a_shrinking_total_leaves_links_untouched(ten_linked, codex):
    before = link_snapshot()
    codex.total_for = lambda page: 10 if page < 3 else 9

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "changed from 10 to 9" in result.error
    assert link_snapshot() == before


def test_a_failed_sweep_keeps_the_conflicts_and_unmatched_of_the_last_good_one(make_series, codex):
    make_series("Claimed", mangabaka="1")
    codex.items = [
        codex_item(1, ("plugin:mangabaka", "1")),
        codex_item(2, ("api:mangabaka", "1")),
        codex_item(3, ("comicinfo", "x")),
    ]
    run_sweep()
    codex.overrides[1] = json_answer(500, {"error": "InternalServerError", "message": "boom"})

    run_sweep()

    assert SyncConflict.objects.count() == 1
    assert UnmatchedCodexSeries.objects.count() == 1


# ------------------------------------------------------------------------ conflicts


def test_two_codex_series_claiming_one_series_make_one_link_and_a_conflict(make_series, codex):
    series = make_series("Claimed twice", mangabaka="9", anilist="19")
    # The MangaBaka match outranks AniList whatever the order Codex lists them in.
    codex.items = [
        codex_item(5, ("api:anilist", "19"), volume=1),
        codex_item(7, ("plugin:mangabaka", "9"), volume=2),
    ]

    result = run_sweep()

    link = CodexLink.objects.get()
    assert link.series_id == series.pk
    assert str(link.codex_series_uuid) == codex_uuid(7)
    assert link.matched_provider == "mangabaka"
    conflict = SyncConflict.objects.get()
    assert conflict.kind == ConflictKind.MANY_CLAIM_ONE
    assert sorted(conflict.codex_series_uuids) == [codex_uuid(5), codex_uuid(7)]
    assert conflict.series_ids == [series.pk]
    assert conflict.chosen_codex_series_uuid == codex_uuid(7)
    assert result.conflicts == 1
    assert SyncRun.objects.get(pk=result.run_id).conflicts == 1


def test_rival_claims_by_the_same_provider_go_to_the_lowest_uuid(make_series, codex):
    series = make_series("Duplicated in Codex", mangabaka="9")
    codex.items = [codex_item(8, ("plugin:mangabaka", "9")), codex_item(3, ("api:mangabaka", "9"))]

    run_sweep()
    codex.items.reverse()
    run_sweep()

    link = CodexLink.objects.get(series=series)
    assert str(link.codex_series_uuid) == codex_uuid(3)
    assert SyncConflict.objects.get().chosen_codex_series_uuid == codex_uuid(3)


def test_one_codex_series_matching_two_series_makes_one_link_and_a_conflict(make_series, codex):
    by_anilist = make_series("Split A", anilist="30")
    by_mangabaka = make_series("Split B", mangabaka="31")
    codex.items = [codex_item(1, ("api:anilist", "30"), ("plugin:mangabaka", "31"))]

    result = run_sweep()

    link = CodexLink.objects.get()
    assert link.series_id == by_mangabaka.pk
    conflict = SyncConflict.objects.get()
    assert conflict.kind == ConflictKind.CODEX_MATCHES_MANY
    assert conflict.codex_series_uuids == [codex_uuid(1)]
    assert sorted(conflict.series_ids) == sorted([by_anilist.pk, by_mangabaka.pk])
    assert conflict.chosen_series_id == by_mangabaka.pk
    assert result.conflicts == 1


def test_conflicts_are_replaced_by_each_sweep(make_series, codex):
    make_series("A", anilist="30")
    make_series("B", mangabaka="31")
    codex.items = [codex_item(1, ("api:anilist", "30"), ("plugin:mangabaka", "31"))]
    run_sweep()

    codex.items = [codex_item(1, ("plugin:mangabaka", "31"))]
    run_sweep()

    assert not SyncConflict.objects.exists()


# --------------------------------------------------------------------- manual links


def test_a_manual_link_survives_a_sweep_and_gets_fresh_counts(make_series, codex):
    series = make_series("Hand-linked", mangabaka="40")
    CodexLink.objects.create(
        series=series, codex_series_uuid=codex_uuid(2), link_kind=LinkKind.MANUAL
    )
    # Codex's series 1 carries the series' own id; the admin chose series 2 anyway.
    codex.items = [
        codex_item(1, ("plugin:mangabaka", "40"), volume=1, chapter=1.0, owned=1),
        codex_item(2, ("manual", "shelf"), volume=8, chapter=70.5, owned=7),
    ]

    run_sweep()

    link = CodexLink.objects.get()
    assert link.series_id == series.pk
    assert link.link_kind == LinkKind.MANUAL
    assert str(link.codex_series_uuid) == codex_uuid(2)
    assert (link.local_max_volume, link.local_max_chapter, link.volumes_owned) == (8, 70.5, 7)
    assert link.synced_at is not None
    assert (link.matched_provider, link.matched_external_id) == ("", "")


def test_a_manual_link_whose_uuid_is_gone_from_codex_is_kept(make_series, codex):
    series = make_series("Hand-linked")
    CodexLink.objects.create(
        series=series,
        codex_series_uuid=codex_uuid(99),
        link_kind=LinkKind.MANUAL,
        local_max_volume=4,
    )
    codex.items = [codex_item(1, ("plugin:mangabaka", "elsewhere"))]

    result = run_sweep()

    link = CodexLink.objects.get()
    assert (link.link_kind, str(link.codex_series_uuid)) == (LinkKind.MANUAL, codex_uuid(99))
    assert link.local_max_volume == 4
    assert result.removed_links == 0
    assert result.linked == 1


def test_a_codex_series_linked_by_hand_is_not_auto_linked_elsewhere(make_series, codex):
    chosen = make_series("The admin's choice")
    other = make_series("Shares the id", mangabaka="12")
    CodexLink.objects.create(
        series=chosen, codex_series_uuid=codex_uuid(1), link_kind=LinkKind.MANUAL
    )
    codex.items = [codex_item(1, ("plugin:mangabaka", "12"), volume=3)]

    run_sweep()

    assert not CodexLink.objects.filter(series=other).exists()
    assert CodexLink.objects.get(series=chosen).local_max_volume == 3


def test_a_hand_link_replacing_an_auto_link_is_kept_by_the_next_sweep(make_series, codex):
    series = make_series("Relinked", mangabaka="60")
    codex.items = [
        codex_item(1, ("plugin:mangabaka", "60"), volume=1),
        codex_item(2, ("comicinfo", "abc"), volume=5),
    ]
    run_sweep()
    # What the hand-link API does: the row becomes manual, pointing elsewhere.
    CodexLink.objects.filter(series=series).update(
        link_kind=LinkKind.MANUAL,
        codex_series_uuid=codex_uuid(2),
        matched_provider="",
        matched_external_id="",
    )

    result = run_sweep()

    link = CodexLink.objects.get()
    assert (link.link_kind, str(link.codex_series_uuid)) == (LinkKind.MANUAL, codex_uuid(2))
    assert link.local_max_volume == 5
    assert (result.new_links, result.removed_links) == (0, 0)


# ------------------------------------------------------------- pruning and unmatched


def test_auto_links_no_longer_in_codex_are_pruned(make_series, codex):
    kept = make_series("Kept", mangabaka="1")
    gone = make_series("Gone", mangabaka="2")
    codex.items = [
        codex_item(1, ("plugin:mangabaka", "1")),
        codex_item(2, ("plugin:mangabaka", "2")),
    ]
    run_sweep()

    del codex.items[1]
    result = run_sweep()

    assert list(CodexLink.objects.values_list("series_id", flat=True)) == [kept.pk]
    assert not CodexLink.objects.filter(series=gone).exists()
    assert (result.new_links, result.removed_links, result.linked) == (0, 1, 1)
    assert ConnectionStatus.get().linked_count == 1


def test_an_auto_link_whose_id_left_the_catalog_is_pruned(make_series, codex):
    series = make_series("Lost its id", anilist="5")
    codex.items = [codex_item(1, ("api:anilist", "5"))]
    run_sweep()

    series.external_ids.all().delete()
    # Removing the only automatic link is removing all of them: applied only when asked.
    assert run_sweep().held_back
    result = run_sweep(apply_anyway=True)

    assert not CodexLink.objects.exists()
    assert result.removed_links == 1
    assert result.unmatched == 1


def test_unmatched_codex_series_are_recorded_and_replaced_each_sweep(make_series, codex):
    make_series("Matched", mangabaka="1")
    codex.items = [
        codex_item(1, ("plugin:mangabaka", "1")),
        codex_item(2, ("manual", "shelf-2"), ("api:anilist", "404"), volume=3, chapter=9.5),
        codex_item(3),
    ]

    first = run_sweep()

    assert first.unmatched == 2
    rows = {str(row.codex_series_uuid): row for row in UnmatchedCodexSeries.objects.all()}
    assert set(rows) == {codex_uuid(2), codex_uuid(3)}
    assert rows[codex_uuid(2)].external_ids == [
        {"source": "manual", "externalId": "shelf-2", "externalUrl": None},
        {"source": "api:anilist", "externalId": "404", "externalUrl": None},
    ]
    assert (rows[codex_uuid(2)].local_max_volume, rows[codex_uuid(2)].local_max_chapter) == (
        3,
        9.5,
    )
    assert rows[codex_uuid(3)].external_ids == []

    codex.items = [codex_item(1, ("plugin:mangabaka", "1")), codex_item(4, ("comicinfo", "z"))]
    second = run_sweep()

    assert second.unmatched == 1
    assert [
        str(u) for u in UnmatchedCodexSeries.objects.values_list("codex_series_uuid", flat=True)
    ] == [codex_uuid(4)]


def test_a_resweep_of_an_unchanged_library_rewrites_no_unmatched_row(make_series, codex):
    codex.items = [
        codex_item(2, ("manual", "shelf-2"), ("api:anilist", "404"), volume=3, chapter=9.5),
        codex_item(3, ("comicinfo", "Ünïcode ✓")),
    ]
    run_sweep(apply_anyway=True)
    before = {row.pk: row.recorded_at for row in UnmatchedCodexSeries.objects.all()}

    with CaptureQueriesContext(connection) as queries:
        result = run_sweep(apply_anyway=True)

    assert result.unmatched == 2
    assert {row.pk: row.recorded_at for row in UnmatchedCodexSeries.objects.all()} == before
    written = [
        q["sql"]
        for q in queries.captured_queries
        if UnmatchedCodexSeries._meta.db_table in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "DELETE", "UPDATE"))
    ]
    assert written == []


def test_a_resweep_writes_only_the_unmatched_rows_that_changed(make_series, codex):
    codex.items = [
        codex_item(2, ("manual", "shelf-2"), volume=3),
        codex_item(3, ("comicinfo", "z")),
        codex_item(4, ("comicinfo", "y"), chapter=1.5),
        codex_item(5),
    ]
    run_sweep(apply_anyway=True)
    untouched = UnmatchedCodexSeries.objects.get(codex_series_uuid=codex_uuid(5))

    codex.items = [
        codex_item(2, ("manual", "shelf-2"), volume=4),  # new counts
        codex_item(3, ("comicinfo", "z"), ("api:anilist", "404")),  # a new id
        codex_item(5),  # as it was
        codex_item(6, ("comicinfo", "x"), owned=2),  # new; 4 is gone
    ]
    result = run_sweep(apply_anyway=True)

    assert result.unmatched == 4
    rows = {str(row.codex_series_uuid): row for row in UnmatchedCodexSeries.objects.all()}
    assert set(rows) == {codex_uuid(2), codex_uuid(3), codex_uuid(5), codex_uuid(6)}
    assert rows[codex_uuid(2)].local_max_volume == 4
    assert rows[codex_uuid(3)].external_ids == [
        {"source": "comicinfo", "externalId": "z", "externalUrl": None},
        {"source": "api:anilist", "externalId": "404", "externalUrl": None},
    ]
    assert rows[codex_uuid(6)].volumes_owned == 2
    assert (rows[codex_uuid(5)].pk, rows[codex_uuid(5)].recorded_at) == (
        untouched.pk,
        untouched.recorded_at,
    )
    assert rows[codex_uuid(2)].recorded_at > untouched.recorded_at


# ------------------------------------------------------------ MangaUpdates spellings


def test_a_mangaupdates_slug_in_codex_matches_the_decimal_id_in_the_catalog(make_series, codex):
    series = make_series("Slugged", mangaupdates=str(int("hly6oqa", 36)))
    codex.items = [codex_item(1, ("api:mangaupdates", "hly6oqa"))]

    run_sweep()

    link = CodexLink.objects.get()
    assert link.series_id == series.pk
    assert (link.matched_provider, link.matched_external_id) == ("mangaupdates", "hly6oqa")


def test_a_mangaupdates_decimal_id_in_codex_matches_the_slug_in_the_catalog(make_series, codex):
    series = make_series("Numbered", mangaupdates="hly6oqa")
    codex.items = [codex_item(1, ("mangaupdates", str(int("hly6oqa", 36))))]

    run_sweep()

    assert CodexLink.objects.get().series_id == series.pk


# ------------------------------------------------------------------------ sync runs


def test_every_attempt_records_a_sync_run_with_its_outcome_trigger_and_counts(make_series, codex):
    make_series("One", mangabaka="1")
    make_series("Two", mangabaka="2")
    codex.items = [
        codex_item(1, ("plugin:mangabaka", "1")),
        codex_item(2, ("plugin:mangabaka", "2")),
        codex_item(3, ("api:mangabaka", "2")),
        codex_item(4),
    ]

    success = run_sweep(SyncTrigger.CRON)
    codex.overrides[None] = json_answer(
        401, {"error": "Unauthorized", "message": "Invalid API key"}
    )
    auth_failed = run_sweep(SyncTrigger.MANUAL)
    codex.overrides[None] = json_answer(502, {"error": "BadGateway", "message": "x"})
    error = run_sweep(SyncTrigger.CRON)
    codex.info_fails(body=requests.ConnectionError("refused"))
    preflight_failed = run_sweep(SyncTrigger.MANUAL)

    runs = {run.pk: run for run in SyncRun.objects.all()}
    assert len(runs) == 4
    ok = runs[success.run_id]
    assert (ok.trigger, ok.outcome) == (SyncTrigger.CRON, SyncOutcome.SUCCESS)
    assert (ok.fetched, ok.linked, ok.new_links, ok.removed_links) == (4, 2, 2, 0)
    assert (ok.conflicts, ok.unmatched, ok.pages, ok.error) == (1, 1, 1, "")
    assert ok.finished_at is not None
    assert ok.duration_ms is not None
    for result, trigger, outcome in [
        (auth_failed, SyncTrigger.MANUAL, SyncOutcome.AUTH_FAILED),
        (error, SyncTrigger.CRON, SyncOutcome.ERROR),
        (preflight_failed, SyncTrigger.MANUAL, SyncOutcome.PREFLIGHT_FAILED),
    ]:
        run = runs[result.run_id]
        assert (run.trigger, run.outcome) == (trigger, outcome)
        assert run.error
        assert run.error == result.error
        assert (run.fetched, run.linked, run.new_links, run.removed_links) == (0, 0, 0, 0)
        assert run.finished_at is not None


def test_an_unexpected_error_is_recorded_and_leaves_links_untouched(ten_linked, monkeypatch):
    before = link_snapshot()

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("codex_sync.link_store.replace_unmatched", explode)

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "disk on fire" in result.error
    assert link_snapshot() == before
    assert SyncRun.objects.get(pk=result.run_id).outcome == SyncOutcome.ERROR
    status = ConnectionStatus.get()
    assert status.last_error == result.error
    assert status.lock_token == ""


def download_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "codex-index"]


def test_a_page_failing_after_earlier_pages_were_matched_leaves_links_untouched(ten_linked, codex):
    """Pages are matched as they arrive; one failing late must still apply nothing at all."""
    before = link_snapshot()
    codex.overrides[5] = json_answer(500, {"error": "InternalServerError", "message": "boom"})

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert result.pages == 4
    assert link_snapshot() == before
    assert not download_threads()


def test_the_download_thread_ends_with_the_sweep(ten_linked, codex):
    assert run_sweep().succeeded

    assert not download_threads()


def test_page_one_is_handed_over_alone_then_pages_go_in_batches():
    """The parsing starts on page 1 at once rather than after the first batch's requests."""

    class Pages:
        def iter_external_index_bodies(self):
            for page in range(1, 21):
                yield ExternalIndexBody(page, b"{}", "application/json"), 20

    delivered = []
    with IndexDownload(Pages(), deliver=delivered.append) as download:
        arrivals = list(download.arrivals())

    batch = IndexDownload.PAGES_PER_HANDOVER
    assert [[body.page for body in bodies] for bodies in delivered] == [
        [1],
        list(range(2, 2 + batch)),
        list(range(2 + batch, 2 + 2 * batch)),
        list(range(2 + 2 * batch, 21)),
    ]
    assert arrivals == [(len(bodies), 20) for bodies in delivered]


def test_a_failed_run_records_how_many_pages_arrived(ten_linked, codex):
    codex.overrides[4] = json_answer(500, {"error": "InternalServerError", "message": "boom"})

    result = run_sweep()

    assert result.pages == 3
    assert SyncRun.objects.get(pk=result.run_id).pages == 3


def test_codex_going_away_mid_walk_is_a_recorded_change_of_reachability(ten_linked, codex):
    before = link_snapshot()
    checks_before = HealthCheck.objects.count()
    codex.overrides[2] = requests.ConnectionError("connection reset")

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert link_snapshot() == before
    assert ConnectionStatus.get().reachable is False
    assert HealthCheck.objects.count() == checks_before + 1
    assert HealthCheck.objects.first().reachable is False


def test_codex_ids_are_compared_as_uuids_whatever_their_case(make_series, codex):
    series = make_series("Hand-linked")
    CodexLink.objects.create(
        series=series, codex_series_uuid=codex_uuid(5), link_kind=LinkKind.MANUAL
    )
    codex.items = [codex_item(5, volume=6)]
    codex.items[0]["id"] = codex.items[0]["id"].upper()

    result = run_sweep()

    assert result.unmatched == 0
    assert CodexLink.objects.get().local_max_volume == 6


def test_a_series_id_that_is_not_a_uuid_fails_the_sweep_without_applying_it(ten_linked, codex):
    before = link_snapshot()
    codex.items[3]["id"] = "not-a-uuid"

    result = run_sweep()

    assert result.outcome == SyncOutcome.ERROR
    assert "not a UUID" in result.error
    assert link_snapshot() == before


# -------------------------------------------------------------------- query counts


def test_the_links_are_written_with_a_larger_page_cache_and_the_usual_one_comes_back(
    make_series, codex
):
    make_series("Vinland Saga", mangabaka="501")
    codex.items = [codex_item(1, ("plugin:mangabaka", "501"), volume=12)]
    usual = None  # PostgreSQL's buffers are the server's: nothing is changed there
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            usual = cursor.fetchone()[0]

    with CaptureQueriesContext(connection) as queries:
        assert run_sweep().succeeded

    statements = [q["sql"] for q in queries.captured_queries]
    insert = next(
        i
        for i, sql in enumerate(statements)
        if sql.startswith(f"INSERT INTO {CodexLink._meta.db_table}")
    )
    if connection.vendor == "sqlite":
        sizes = [
            (i, sql) for i, sql in enumerate(statements) if sql.startswith("PRAGMA cache_size =")
        ]
        assert [sql for _, sql in sizes] == [
            f"PRAGMA cache_size = -{LARGE_WRITE_CACHE_KIB}",
            f"PRAGMA cache_size = {usual}",
        ]
        assert sizes[0][0] < insert < sizes[1][0]
    assert CodexLink.objects.get().local_max_volume == 12


def _queries_for_a_sweep(make_series, codex: FakeCodex, n: int) -> int:
    """Queries one successful sweep makes over n Codex series; the data is rolled back."""
    with transaction.atomic():
        catalog = [make_series(f"Series {k}", mangabaka=str(k)) for k in range(n)]
        CodexLink.objects.create(
            series=catalog[0], codex_series_uuid=codex_uuid(0), link_kind=LinkKind.MANUAL
        )
        # Matches, conflicts, unmatched series and a manual link, all growing with n.
        codex.items = [
            codex_item(k, ("plugin:mangabaka", str(k)), volume=k, chapter=k + 0.5) for k in range(n)
        ]
        codex.items += [codex_item(n + k, ("comicinfo", str(k))) for k in range(n // 10)]
        codex.items += [codex_item(2 * n + k, ("api:mangabaka", str(k))) for k in range(1, n)]
        with CaptureQueriesContext(connection) as queries:
            result = run_sweep()
        assert result.succeeded
        assert result.linked == n
        assert result.conflicts == n - 1
        assert result.unmatched == n // 10
        transaction.set_rollback(True)
    return len(queries)


def test_a_sweep_makes_the_same_number_of_queries_for_10_and_200_series(make_series, codex):
    small = _queries_for_a_sweep(make_series, codex, 10)
    large = _queries_for_a_sweep(make_series, codex, 200)

    assert small == large


# ------------------------------------------------- the hold-back guard (issue 11)


def test_an_empty_index_is_held_back_and_every_link_stays(ten_linked, codex):
    before = link_snapshot()
    codex.items = []  # a well-formed 200 with total 0: an unmounted library

    result = run_sweep()

    assert result.outcome == SyncOutcome.HELD_BACK
    assert result.held_back and not result.succeeded
    assert link_snapshot() == before
    run = SyncRun.objects.order_by("-id").first()
    assert run.outcome == SyncOutcome.HELD_BACK
    assert (run.fetched, run.linked, run.removed_links) == (0, 10, 0)
    assert "would remove 10 of 10 automatic links" in run.error
    assert "--apply-anyway" in run.error
    status = ConnectionStatus.get()
    assert "Held back" in status.last_error
    # Nothing applied, so the last success is the first sweep's.
    assert status.linked_count == 10


def test_half_the_links_going_is_held_back_but_fewer_is_applied(ten_linked, codex):
    before = link_snapshot()
    all_items = list(codex.items)
    codex.items = all_items[5:]

    assert run_sweep().outcome == SyncOutcome.HELD_BACK
    assert link_snapshot() == before

    codex.items = all_items[4:]
    result = run_sweep()

    assert result.outcome == SyncOutcome.SUCCESS
    assert (result.removed_links, CodexLink.objects.count()) == (4, 6)


def test_apply_anyway_applies_a_held_back_index(ten_linked, codex):
    codex.items = []
    assert run_sweep().held_back

    result = run_sweep(apply_anyway=True)

    assert result.outcome == SyncOutcome.SUCCESS
    assert result.removed_links == 10
    assert not CodexLink.objects.exists()


def test_manual_links_do_not_count_towards_the_guard_and_survive_it(make_series, codex):
    hand = make_series("By hand")
    CodexLink.objects.create(series=hand, codex_series_uuid=codex_uuid(7), link_kind="manual")
    auto = make_series("Auto", mangabaka="1")
    codex.items = [codex_item(1, ("plugin:mangabaka", "1")), codex_item(7)]
    assert run_sweep().succeeded
    codex.items = [codex_item(7)]

    result = run_sweep()

    assert result.held_back
    assert set(CodexLink.objects.values_list("series_id", flat=True)) == {hand.pk, auto.pk}


def test_a_sweep_leaves_the_garbage_collector_as_it_found_it(ten_linked, codex):
    assert gc.isenabled()
    codex.overrides[3] = json_answer(500, {"error": "InternalServerError", "message": "boom"})

    assert run_sweep().outcome == SyncOutcome.ERROR
    assert gc.isenabled()

    codex.overrides.clear()
    assert run_sweep().succeeded
    assert gc.isenabled()


# ------------------------------------------------------------ when links were synced


def test_a_resweep_of_an_unchanged_library_rewrites_no_link_yet_every_reader_sees_it_synced(
    make_series, codex
):
    series = make_series("Vinland Saga", mangabaka="501")
    codex.items = [codex_item(1, ("plugin:mangabaka", "501"), volume=12, chapter=100.0, owned=12)]
    run_sweep()
    first = CodexLink.objects.get()

    with CaptureQueriesContext(connection) as queries:
        assert run_sweep().succeeded

    link = CodexLink.objects.get()
    assert link.synced_at == first.synced_at  # the row was not rewritten
    assert not [
        q["sql"]
        for q in queries.captured_queries
        if CodexLink._meta.db_table in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "DELETE"))
    ]
    last_sweep_at = ConnectionStatus.get().last_success_at
    assert last_sweep_at > first.synced_at
    assert overlay.synced_at_of(link, last_sweep_at) == last_sweep_at
    assert overlay.codex_payload(overlay.with_codex(Series.objects.filter(pk=series.pk)).get())[
        "syncedAt"
    ] == int(last_sweep_at.timestamp())


def test_a_resweep_compares_every_kind_of_count_as_stored_and_writes_only_what_changed(
    make_series, codex
):
    """The stored links travel to the matching process as the database's JSON:
    a count that came back from it as another value or type (12.5, 100.0,
    null) would make every re-sweep rewrite every link."""
    for number in range(1, 6):
        make_series(f"Series {number}", mangabaka=str(500 + number))
    counts = [
        {"volume": 12, "chapter": 100.0, "owned": 12},
        {"volume": None, "chapter": 12.5, "owned": None},
        {"volume": 3, "chapter": None, "owned": 0},
        {"volume": None, "chapter": None, "owned": None},
        {"volume": 7, "chapter": 0.1, "owned": 7},
    ]
    codex.items = [
        codex_item(number, ("plugin:mangabaka", str(500 + number)), **counts[number - 1])
        for number in range(1, 6)
    ]
    assert run_sweep().new_links == 5
    first = {link.series_id: link.synced_at for link in CodexLink.objects.all()}

    assert run_sweep().new_links == 0
    assert {link.series_id: link.synced_at for link in CodexLink.objects.all()} == first

    codex.items[1]["localMaxChapter"] = 13.5  # one series moved on
    del codex.items[4]  # one left the library
    result = run_sweep()

    assert result.outcome == SyncOutcome.SUCCESS
    assert (result.new_links, result.removed_links) == (0, 1)
    rewritten = {
        link.series_id
        for link in CodexLink.objects.all()
        if link.synced_at != first[link.series_id]
    }
    assert rewritten == {Series.objects.get(canonical_title="Series 2").pk}
    assert CodexLink.objects.get(series__canonical_title="Series 2").local_max_chapter == 13.5


def test_a_manual_link_keeps_its_own_synced_time(make_series, codex):
    series = make_series("Shelf only")
    CodexLink.objects.create(
        series=series, codex_series_uuid=codex_uuid(2), link_kind=LinkKind.MANUAL
    )
    codex.items = [codex_item(1), codex_item(2, volume=3)]
    run_sweep()
    refreshed = CodexLink.objects.get()

    codex.items = [codex_item(1)]  # the hand-linked series left the index
    run_sweep()

    link = CodexLink.objects.get()
    last_sweep_at = ConnectionStatus.get().last_success_at
    assert refreshed.synced_at is not None
    assert link.synced_at == refreshed.synced_at < last_sweep_at
    assert overlay.synced_at_of(link, last_sweep_at) == refreshed.synced_at
