"""Django admin screens for the catalog and the Codex integration."""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.utils import timezone

from codex_sync import models as codex_models
from feed.models import Release, SourceState
from tests.helpers import CODEX_KEY

CODEX_UUID = uuid.UUID("550e8400-e29b-41d4-a716-446655440002")
LINKS = "/admin/codex_sync/codexlink/"


def page_text(response) -> str:
    text = response.content.decode()
    assert CODEX_KEY not in text
    return text


@pytest.fixture
def linked(make_series):
    """One series per status, plus one that is not on Codex."""
    behind = make_series("Behind Series", highest_volume=10)
    complete = make_series("Complete Series", highest_volume=10)
    present = make_series("Present Series", highest_chapter=50)
    ignored = make_series("Ignored Series", highest_volume=10, ignore_completion=True)
    make_series("Not On Codex")
    codex_models.CodexLink.objects.create(
        series=behind, codex_series_uuid=uuid.uuid4(), local_max_volume=8
    )
    codex_models.CodexLink.objects.create(
        series=complete, codex_series_uuid=CODEX_UUID, local_max_volume=10, link_kind="manual"
    )
    codex_models.CodexLink.objects.create(series=present, codex_series_uuid=uuid.uuid4())
    codex_models.CodexLink.objects.create(
        series=ignored, codex_series_uuid=uuid.uuid4(), local_max_volume=2
    )
    return {"behind": behind, "complete": complete, "present": present, "ignored": ignored}


def titles_in(text: str) -> set[str]:
    return {
        title
        for title in ("Behind Series", "Complete Series", "Present Series", "Ignored Series")
        if title in text
    }


def test_the_link_list_shows_each_links_status_by_the_one_rule(admin_client, linked):
    text = page_text(admin_client.get(LINKS))

    assert titles_in(text) == {
        "Behind Series",
        "Complete Series",
        "Present Series",
        "Ignored Series",
    }
    for status in ("behind", "complete", "present", "ignored"):
        assert f'<td class="field-status">{status}</td>' in text
    assert f"http://codex.test/series/{CODEX_UUID}" in text
    assert f'href="/series/{linked["behind"].pk}/"' in text


@pytest.mark.parametrize("status", ["behind", "complete", "present", "ignored"])
def test_the_link_list_filters_by_status(admin_client, linked, status):
    text = page_text(admin_client.get(LINKS, {"status": status}))

    assert titles_in(text) == {f"{status.capitalize()} Series"}


def test_the_link_list_filters_by_link_kind(admin_client, linked):
    text = page_text(admin_client.get(LINKS, {"link_kind__exact": codex_models.LinkKind.MANUAL}))

    assert titles_in(text) == {"Complete Series"}


@pytest.mark.parametrize(
    "term",
    [
        "complete ser",
        str(CODEX_UUID),
        str(CODEX_UUID).upper(),
        f"http://codex.test/series/{CODEX_UUID}",
    ],
)
def test_the_link_list_searches_by_title_and_codex_uuid(admin_client, linked, term):
    text = page_text(admin_client.get(LINKS, {"q": term}))

    assert titles_in(text) == {"Complete Series"}


def test_the_link_list_reads_a_fixed_number_of_queries(
    admin_client, make_series, django_assert_max_num_queries
):
    for index in range(40):
        series = make_series(highest_volume=index)
        codex_models.CodexLink.objects.create(
            series=series, codex_series_uuid=uuid.UUID(int=index + 1), local_max_volume=5
        )

    with django_assert_max_num_queries(8):
        response = admin_client.get(LINKS)

    assert response.status_code == 200


def test_links_cannot_be_added_or_edited_here_but_can_be_deleted(admin_client, linked):
    link = codex_models.CodexLink.objects.get(series=linked["complete"])

    add = admin_client.get("/admin/codex_sync/codexlink/add/")
    change = admin_client.post(
        f"/admin/codex_sync/codexlink/{link.pk}/change/", {"link_kind": "auto"}
    )
    delete = admin_client.post(f"/admin/codex_sync/codexlink/{link.pk}/delete/", {"post": "yes"})

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 302
    assert not codex_models.CodexLink.objects.filter(pk=link.pk).exists()


@pytest.fixture
def codex_history(make_series):
    leaked = f"oops X-API-Key: {CODEX_KEY}"
    codex_models.ConnectionStatus.objects.create(
        pk=codex_models.ConnectionStatus.SINGLETON_ID,
        reachable=True,
        codex_name="codex",
        codex_version="1.32.0",
        last_error=leaked,
        lock_token="a1b2c3d4e5f6",
        lock_expires_at=timezone.now(),
    )
    codex_models.SyncRun.objects.create(
        trigger=codex_models.SyncTrigger.CRON, outcome=codex_models.SyncOutcome.ERROR, error=leaked
    )
    codex_models.HealthCheck.objects.create(reachable=False, error=leaked)
    codex_models.SyncConflict.objects.create(
        kind="many_claim_one", series_ids=[1, 2], detail="two claim one"
    )
    codex_models.UnmatchedCodexSeries.objects.create(
        codex_series_uuid=CODEX_UUID,
        external_ids=[{"source": "api:anilist", "externalId": "4242"}],
    )
    series = make_series("Berserk", anilist="30002")
    codex_models.CodexLink.objects.create(series=series, codex_series_uuid=uuid.uuid4())
    Release.objects.create(external_id="1", source_name="nyaa-manga", title="Berserk v01")
    SourceState.objects.create(name="nyaa-manga")
    return series


@pytest.mark.parametrize(
    "model",
    [
        "codex_sync/codexlink",
        "codex_sync/syncrun",
        "codex_sync/healthcheck",
        "codex_sync/connectionstatus",
        "codex_sync/syncconflict",
        "codex_sync/unmatchedcodexseries",
        "feed/series",
        "feed/release",
        "feed/sourcestate",
    ],
)
def test_every_list_and_detail_page_renders_without_the_key(admin_client, codex_history, model):
    listing = admin_client.get(f"/admin/{model}/")
    row = apps.get_model(*model.split("/")).objects.first()
    detail = admin_client.get(f"/admin/{model}/{row.pk}/change/")

    assert (listing.status_code, detail.status_code) == (200, 200)
    page_text(listing)
    page_text(detail)


@pytest.mark.parametrize("model", ["syncrun", "healthcheck"])
def test_stored_errors_are_shown_redacted(admin_client, codex_history, model):
    row = apps.get_model("codex_sync", model).objects.get()

    listing = page_text(admin_client.get(f"/admin/codex_sync/{model}/"))
    detail = page_text(admin_client.get(f"/admin/codex_sync/{model}/{row.pk}/change/"))

    assert "oops X-API-Key: ***" in listing
    assert "oops X-API-Key: ***" in detail


def test_the_connection_status_page_leaves_out_the_sweep_lock(admin_client, codex_history):
    text = page_text(
        admin_client.get(
            f"/admin/codex_sync/connectionstatus/{codex_models.ConnectionStatus.SINGLETON_ID}/change/"
        )
    )

    assert "oops X-API-Key: ***" in text
    assert "a1b2c3d4e5f6" not in text
    assert "Lock" not in text


def test_the_admin_index_shows_no_settings(admin_client, codex_history):
    text = page_text(admin_client.get("/admin/"))

    assert "Codex integration" in text
    assert "Discovery feed" in text


def test_series_are_searchable_and_filterable_with_their_external_ids_inline(
    admin_client, codex_history, make_series
):
    make_series("Vagabond", kind="manga", status="completed")

    found = page_text(admin_client.get("/admin/feed/series/", {"q": "berser"}))
    completed = page_text(admin_client.get("/admin/feed/series/", {"status__exact": "completed"}))
    detail = page_text(admin_client.get(f"/admin/feed/series/{codex_history.pk}/change/"))

    assert "Berserk" in found and "Vagabond" not in found
    assert "Vagabond" in completed and "Berserk" not in completed
    assert 'value="30002"' in detail


def test_releases_filter_by_resolution_and_source(admin_client, codex_history):
    Release.objects.create(
        external_id="2", source_name="other-feed", title="Vagabond v02", resolution="rejected"
    )

    by_source = page_text(admin_client.get("/admin/feed/release/", {"source_name": "other-feed"}))
    by_resolution = page_text(
        admin_client.get("/admin/feed/release/", {"resolution__exact": "unresolved"})
    )
    searched = page_text(admin_client.get("/admin/feed/release/", {"q": "vagabond"}))

    assert "Vagabond v02" in by_source and "Berserk v01" not in by_source
    assert "Berserk v01" in by_resolution and "Vagabond v02" not in by_resolution
    assert "Vagabond v02" in searched and "Berserk v01" not in searched


def test_the_admin_is_closed_to_anonymous_visitors(client, db):
    response = client.get(LINKS)

    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_the_link_list_shows_when_each_link_was_synced(admin_client, make_series):
    auto, manual = make_series("Auto Series"), make_series("Manual Series")
    last_sweep = timezone.now().replace(year=2031, month=5, day=4)
    manual_synced = last_sweep.replace(year=2029, month=3, day=2)
    codex_models.ConnectionStatus.get()
    codex_models.ConnectionStatus.objects.update(last_success_at=last_sweep)
    codex_models.CodexLink.objects.create(
        series=auto,
        codex_series_uuid=uuid.uuid4(),
        synced_at=last_sweep.replace(year=2027),  # when it last changed
    )
    codex_models.CodexLink.objects.create(
        series=manual,
        codex_series_uuid=CODEX_UUID,
        link_kind="manual",
        synced_at=manual_synced,
    )

    text = page_text(admin_client.get(LINKS))

    assert "May 4, 2031" in text  # the auto link: synced by the last sweep
    assert "March 2, 2029" in text  # the manual link: its own time
    assert "May 4, 2027" not in text
