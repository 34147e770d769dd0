"""The Codex admin pages: the connection card, its buttons without JavaScript, the series forms."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import timedelta

import pytest
import responses
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from codex_sync import models as codex_models
from codex_sync.lock import claim_lock
from feed.models import Series
from tests.helpers import CODEX_KEY

CODEX = "http://codex.test"
CODEX_UUID = "550e8400-e29b-41d4-a716-446655440002"


def page_text(response) -> str:
    """The page as text, checked for the Codex key on the way."""
    text = response.content.decode()
    assert CODEX_KEY not in text
    return text


def messages_of(response) -> list[str]:
    """Messages waiting to be shown, oldest first (redirects here are not followed)."""
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture(autouse=True)
def no_log_leak(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    assert CODEX_KEY not in caplog.text


@pytest.fixture
def reader_client(client, django_user_model):
    """Logged in, but not staff: the read tier."""
    user = django_user_model.objects.create_user(username="reader", password="reader-pass-1")
    client.force_login(user)
    return client


@pytest.fixture
def history(make_series):
    """A connection that has seen a bit of everything."""
    now = timezone.now()
    series = make_series("Berserk")
    other = make_series("Berserk Deluxe")
    codex_models.ConnectionStatus.objects.create(
        pk=codex_models.ConnectionStatus.SINGLETON_ID,
        reachable=True,
        codex_name="codex",
        codex_version="1.31.0",
        auth_state=codex_models.AuthState.UNAUTHORIZED,
        last_preflight_at=now,
        last_success_at=now - timedelta(days=1),
        last_error="API key rejected (401): Invalid API key",
        last_error_at=now,
        fetched_count=250,
    )
    codex_models.CodexLink.objects.create(series=series, codex_series_uuid=CODEX_UUID)
    codex_models.SyncRun.objects.create(
        trigger=codex_models.SyncTrigger.CRON,
        outcome=codex_models.SyncOutcome.AUTH_FAILED,
        error="API key rejected (401): Invalid API key",
        duration_ms=1234,
        fetched=250,
        linked=41,
        new_links=3,
        removed_links=2,
        conflicts=1,
        unmatched=9,
    )
    codex_models.HealthCheck.objects.create(
        reachable=True, codex_name="codex", codex_version="1.31.0"
    )
    codex_models.SyncConflict.objects.create(
        kind="codex_matches_many",
        codex_series_uuids=[CODEX_UUID],
        series_ids=[series.pk, other.pk],
        chosen_series_id=series.pk,
        chosen_codex_series_uuid=CODEX_UUID,
        detail="anilist:30002 is on both series",
    )
    codex_models.UnmatchedCodexSeries.objects.create(
        codex_series_uuid="7a1c2b7e-0000-4000-8000-000000000009",
        external_ids=[
            {
                "source": "api:anilist",
                "externalId": "4242",
                "externalUrl": "https://anilist.co/manga/4242",
            },
            {"source": "plugin:evil", "externalId": "x1", "externalUrl": "javascript:alert(1)"},
        ],
        local_max_volume=7,
        local_max_chapter=61.5,
        volumes_owned=6,
    )
    return series


# --- the connection card --------------------------------------------------------


def test_the_card_shows_the_connection_and_its_history(admin_client, history):
    response = admin_client.get("/codex/")

    text = page_text(response)
    assert response.status_code == 200
    assert "Reachable" in text
    assert "API key rejected (401)" in text
    assert "codex 1.31.0" in text
    assert "Codex 1.31.0 is older than 1.32.0: the external index needs 1.32.0 or newer" in text
    assert "1 of 250 fetched" in text
    assert "API key rejected (401): Invalid API key" in text
    # Recent sweeps: trigger, outcome, counts, duration.
    assert "Schedule" in text and "API key problem" in text and "1.2 s" in text
    # Conflicts: both catalog series link to their pages, the Codex side opens Codex.
    assert f'href="/series/{history.pk}/"' in text
    assert "Berserk Deluxe" in text
    assert f'href="{CODEX}/series/{CODEX_UUID}"' in text
    assert "anilist:30002 is on both series" in text
    # Unmatched: Codex deep link, external ids, only http(s) ids become links.
    assert f'href="{CODEX}/series/7a1c2b7e-0000-4000-8000-000000000009"' in text
    assert 'href="https://anilist.co/manga/4242"' in text
    assert "javascript:" not in text
    assert "61.5" in text and "~6" in text
    # Both buttons, as plain forms that also name their API route for the script.
    assert 'action="/codex/refresh"' in text and 'data-api-url="/api/v1/codex/refresh"' in text
    assert 'action="/codex/test"' in text and 'data-api-url="/api/v1/codex/test"' in text
    assert "Refresh now" in text and "Test connection" in text
    assert "/static/js/codex.js" in text


def test_a_fresh_install_says_nothing_was_checked_yet(admin_client, db):
    text = page_text(admin_client.get("/codex/"))

    assert text.count("Not checked yet") == 2  # reachability and the API key
    assert "No sweep has run yet" in text
    assert "older than 1.32.0" not in text


def test_the_page_script_gets_the_sweep_outcome_labels_from_the_models(admin_client, db):
    text = page_text(admin_client.get("/codex/"))

    script = re.search(
        r'<script id="codex-outcome-labels" type="application/json">(.*?)</script>', text
    )
    assert script is not None
    assert json.loads(script.group(1)) == {
        "success": "Success",
        "preflight_failed": "Codex unreachable",
        "auth_failed": "API key problem",
        "error": "Error",
        "held_back": "Held back",
        "crashed": "Crashed",
    }


def test_an_unreachable_codex_says_so(admin_client, db):
    codex_models.ConnectionStatus.objects.create(
        pk=codex_models.ConnectionStatus.SINGLETON_ID, reachable=False
    )

    assert "Unreachable" in page_text(admin_client.get("/codex/"))


def test_a_running_sweep_shows_its_page_progress(admin_client, db):
    claim_lock()
    codex_models.ConnectionStatus.objects.filter(
        pk=codex_models.ConnectionStatus.SINGLETON_ID
    ).update(progress_pages=3, progress_total_pages=12)

    text = page_text(admin_client.get("/codex/"))

    assert "Sweeping… page 3 of 12" in text
    assert 'data-sweep-running="true"' in text


def test_unmatched_codex_series_are_paginated_in_codex_order(admin_client, db):
    for index in range(30):
        codex_models.UnmatchedCodexSeries.objects.create(
            codex_series_uuid=uuid.UUID(int=index + 1), external_ids=[]
        )

    first = page_text(admin_client.get("/codex/"))
    second = page_text(admin_client.get("/codex/?page=2"))

    assert str(uuid.UUID(int=1)) in first and str(uuid.UUID(int=25)) in first
    assert str(uuid.UUID(int=26)) not in first
    assert "?page=2#unmatched" in first
    assert str(uuid.UUID(int=26)) in second and str(uuid.UUID(int=30)) in second
    assert str(uuid.UUID(int=1)) not in second


def test_the_card_reads_a_fixed_number_of_queries(
    admin_client, make_series, django_assert_max_num_queries
):
    for index in range(20):
        series = make_series()
        codex_models.SyncConflict.objects.create(
            kind="many_claim_one",
            series_ids=[series.pk],
            codex_series_uuids=[str(uuid.UUID(int=index + 1))],
        )
        codex_models.UnmatchedCodexSeries.objects.create(
            codex_series_uuid=uuid.UUID(int=1000 + index)
        )
        codex_models.SyncRun.objects.create(
            trigger=codex_models.SyncTrigger.CRON, outcome=codex_models.SyncOutcome.SUCCESS
        )
        codex_models.HealthCheck.objects.create(reachable=True)

    with django_assert_max_num_queries(16):
        response = admin_client.get("/codex/")

    assert response.status_code == 200


def test_a_disabled_integration_says_how_to_enable_it_and_offers_no_buttons(
    admin_client, db, tsundoku_config
):
    tsundoku_config(codex={"enabled": False, "api_key": CODEX_KEY})

    text = page_text(admin_client.get("/codex/"))

    assert "The Codex integration is disabled" in text
    assert "codex.enabled" in text and "codex.base_url" in text and "codex.api_key" in text
    assert "TSUNDOKU_CODEX__API_KEY" in text
    assert "Refresh now" not in text and "Test connection" not in text
    assert 'action="/codex/refresh"' not in text


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/codex/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=/codex/")


def test_a_logged_in_reader_is_forbidden(reader_client):
    assert reader_client.get("/codex/").status_code == 403


# --- the buttons without JavaScript --------------------------------------------


def test_refresh_now_queues_a_sweep_then_reports_the_second_as_skipped(admin_client, db, queued):
    first = admin_client.post("/codex/refresh")
    second = admin_client.post("/codex/refresh")

    assert (first.status_code, first.url) == (302, "/codex/")
    assert messages_of(first) == ["Sweep started. Reload this page to follow its progress."]
    assert messages_of(second)[-1] == "A sweep is already running; this refresh was skipped."
    assert len(queued) == 1


def test_a_held_back_sweep_is_explained_with_an_apply_anyway_button(admin_client, db, queued):
    codex_models.SyncRun.objects.create(
        trigger=codex_models.SyncTrigger.CRON,
        outcome=codex_models.SyncOutcome.HELD_BACK,
        fetched=0,
        linked=30,
        error="Held back: Codex's index would remove 30 of 30 automatic links, as …",
    )

    text = page_text(admin_client.get("/codex/"))

    assert "The last sweep was held back." in text
    assert "would remove 30 of 30 automatic links" in text
    assert 'name="apply_anyway" value="1"' in text
    assert "Apply anyway" in text

    response = admin_client.post("/codex/refresh", {"apply_anyway": "1"})

    assert response.status_code == 302
    ((_task, _trigger, _token), options) = queued[0]
    assert options["apply_anyway"] is True
    assert "even if it removes most automatic links" in messages_of(response)[0]


def test_no_apply_anyway_once_a_later_sweep_succeeded(admin_client, db):
    for outcome in (codex_models.SyncOutcome.HELD_BACK, codex_models.SyncOutcome.SUCCESS):
        codex_models.SyncRun.objects.create(trigger=codex_models.SyncTrigger.CRON, outcome=outcome)

    text = page_text(admin_client.get("/codex/"))

    assert "Apply anyway" not in text


def test_refresh_now_while_disabled_only_explains(admin_client, db, queued, tsundoku_config):
    tsundoku_config(codex={"enabled": False})

    response = admin_client.post("/codex/refresh")

    assert response.url == "/codex/"
    assert messages_of(response) == ["The Codex integration is disabled; nothing to refresh."]
    assert queued == []


@responses.activate
def test_test_connection_reports_success(admin_client, db):
    responses.get(f"{CODEX}/api/v1/info", json={"version": "1.32.0", "name": "codex"})
    responses.get(
        f"{CODEX}/api/v1/series/external-index",
        json={"data": [], "page": 1, "pageSize": 1, "total": 0, "totalPages": 0, "links": {}},
    )

    response = admin_client.post("/codex/test")

    assert response.url == "/codex/"
    assert messages_of(response) == ["Connected to codex 1.32.0; the API key works."]
    assert responses.calls[1].request.headers["X-API-Key"] == CODEX_KEY
    assert "Connected" in page_text(admin_client.get("/codex/"))


@responses.activate
def test_test_connection_reports_a_key_without_series_read(admin_client, db):
    responses.get(f"{CODEX}/api/v1/info", json={"version": "1.32.0", "name": "codex"})
    responses.get(
        f"{CODEX}/api/v1/series/external-index",
        status=403,
        json={"error": "forbidden", "message": "Missing required permission: SeriesRead"},
    )

    response = admin_client.post("/codex/test")

    (message,) = messages_of(response)
    assert message.startswith("Codex is reachable, but: API key lacks series:read (403)")
    assert "API key lacks series:read (403)" in page_text(admin_client.get("/codex/"))


@pytest.mark.parametrize("path", ["/codex/refresh", "/codex/test"])
def test_the_buttons_are_forbidden_to_everyone_else(client, reader_client, queued, path):
    assert client.post(path).status_code == 403
    assert reader_client.post(path).status_code == 403
    assert queued == []


@pytest.mark.parametrize("path", ["/codex/refresh", "/codex/test"])
def test_the_buttons_do_nothing_on_get(admin_client, db, queued, path):
    assert admin_client.get(path).status_code == 405
    assert queued == []


def test_the_script_path_needs_the_csrf_header_from_the_cookie(staff_user, db, queued):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    browser.get("/codex/")
    token = browser.cookies["csrftoken"].value

    # What fetch() sends: a bodiless POST, session cookie, token in the header.
    without = browser.post("/api/v1/codex/refresh", content_type="application/json")
    with_header = browser.post(
        "/api/v1/codex/refresh", content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert without.status_code == 403
    assert with_header.status_code == 202
    assert with_header.json() == {"triggered": True, "skipped": False}


# --- the series-page forms ------------------------------------------------------


def test_the_series_page_panel_posts_to_these_forms(admin_client, make_series):
    series = make_series("Berserk")

    text = page_text(admin_client.get(f"/series/{series.pk}/"))

    assert f'action="/codex/series/{series.pk}/link"' in text
    assert f'action="/codex/series/{series.pk}/ignore-completion"' in text


def test_linking_from_the_series_page(admin_client, make_series):
    series = make_series("Berserk")

    response = admin_client.post(
        f"/codex/series/{series.pk}/link",
        {"codex_series_uuid": f"{CODEX}/series/{CODEX_UUID}"},
    )

    assert response.url == f"/series/{series.pk}/"
    (message,) = messages_of(response)
    assert message.startswith(f"Linked Berserk to Codex series {CODEX_UUID}.")
    link = codex_models.CodexLink.objects.get(series=series)
    assert (str(link.codex_series_uuid), link.link_kind) == (
        CODEX_UUID,
        codex_models.LinkKind.MANUAL,
    )
    assert f'action="/codex/series/{series.pk}/unlink"' in page_text(
        admin_client.get(f"/series/{series.pk}/")
    )


@pytest.mark.parametrize("value", ["", "berserk", "https://codex.test/libraries/3"])
def test_a_bad_reference_is_explained_and_links_nothing(admin_client, make_series, value):
    series = make_series("Berserk")

    response = admin_client.post(f"/codex/series/{series.pk}/link", {"codex_series_uuid": value})

    assert response.url == f"/series/{series.pk}/"
    (message,) = messages_of(response)
    assert message.startswith("Not linked: ")
    assert not codex_models.CodexLink.objects.exists()


def test_unlinking_an_automatic_link_warns_that_the_next_sweep_restores_it(
    admin_client, make_series
):
    series = make_series("Berserk")
    codex_models.CodexLink.objects.create(series=series, codex_series_uuid=CODEX_UUID)

    first = admin_client.post(f"/codex/series/{series.pk}/unlink")
    second = admin_client.post(f"/codex/series/{series.pk}/unlink")

    assert first.url == f"/series/{series.pk}/"
    assert "the next sweep links it again" in messages_of(first)[0]
    assert messages_of(second)[-1] == "Berserk was not linked to Codex."
    assert not codex_models.CodexLink.objects.exists()


def test_unlinking_a_manual_link(admin_client, make_series):
    series = make_series("Berserk")
    codex_models.CodexLink.objects.create(
        series=series, codex_series_uuid=CODEX_UUID, link_kind="manual"
    )

    response = admin_client.post(f"/codex/series/{series.pk}/unlink")

    assert messages_of(response) == ["Unlinked Berserk from Codex."]


def test_completion_tracking_is_switched_off_and_on(admin_client, make_series):
    series = make_series("Berserk")

    off = admin_client.post(f"/codex/series/{series.pk}/ignore-completion", {"ignore": "true"})
    assert Series.objects.get(pk=series.pk).ignore_completion is True
    on = admin_client.post(f"/codex/series/{series.pk}/ignore-completion", {"ignore": "false"})
    assert Series.objects.get(pk=series.pk).ignore_completion is False

    assert off.url == on.url == f"/series/{series.pk}/"
    assert messages_of(off) == ["Completion tracking is off for Berserk."]
    assert messages_of(on)[-1] == "Completion tracking is back on for Berserk."


def test_an_unclear_tracking_choice_changes_nothing(admin_client, make_series):
    series = make_series("Berserk")

    response = admin_client.post(f"/codex/series/{series.pk}/ignore-completion", {"ignore": "1"})

    assert messages_of(response)[0].startswith("Choose whether to track completion")
    assert Series.objects.get(pk=series.pk).ignore_completion is False


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("link", {"codex_series_uuid": CODEX_UUID}),
        ("unlink", {}),
        ("ignore-completion", {"ignore": "true"}),
    ],
)
def test_the_series_forms_are_forbidden_to_everyone_else(
    client, reader_client, make_series, action, data
):
    series = make_series("Berserk")
    codex_models.CodexLink.objects.create(series=series, codex_series_uuid=uuid.uuid4())

    assert client.post(f"/codex/series/{series.pk}/{action}", data).status_code == 403
    assert reader_client.post(f"/codex/series/{series.pk}/{action}", data).status_code == 403
    assert codex_models.CodexLink.objects.get(series=series).link_kind == codex_models.LinkKind.AUTO
    assert Series.objects.get(pk=series.pk).ignore_completion is False


def test_a_form_for_an_unknown_series_is_a_404(admin_client, db):
    response = admin_client.post("/codex/series/999999/link", {"codex_series_uuid": CODEX_UUID})

    assert response.status_code == 404
