"""Hand-linking over the API: `POST|DELETE /series/{id}/codex-link`, `PUT …/ignore-completion`."""

from __future__ import annotations

import uuid

import pytest

from codex_sync.models import CodexLink, LinkKind
from feed.models import Series
from tests.helpers import ADMIN_TOKEN, CODEX_KEY, READ_KEY

CODEX_UUID = "550e8400-e29b-41d4-a716-446655440002"


def link_url(series_id: int) -> str:
    return f"/api/v1/series/{series_id}/codex-link"


def ignore_url(series_id: int) -> str:
    return f"/api/v1/series/{series_id}/ignore-completion"


def body_of(response) -> str:
    """The response body as text, checked for the Codex key on the way."""
    text = response.content.decode()
    assert CODEX_KEY not in text
    return text


@pytest.fixture
def session_admin_api(api_client, staff_user):
    api_client.force_login(staff_user)
    return api_client


def test_admin_links_a_series_by_uuid(admin_api, make_series):
    series = make_series("Berserk")

    response = admin_api.post(link_url(series.pk), {"codexSeriesUuid": CODEX_UUID}, format="json")

    body_of(response)
    assert response.status_code == 200
    assert response.json() == {
        "seriesId": series.pk,
        "codexSeriesUuid": CODEX_UUID,
        "linkKind": "manual",
    }
    link = CodexLink.objects.get(series=series)
    assert str(link.codex_series_uuid) == CODEX_UUID
    assert link.link_kind == LinkKind.MANUAL


def test_a_codex_series_url_is_accepted_and_a_previous_link_replaced(admin_api, make_series):
    series = make_series("Berserk")
    CodexLink.objects.create(series=series, codex_series_uuid=uuid.uuid4(), local_max_volume=3)

    response = admin_api.post(
        link_url(series.pk),
        {"codexSeriesUuid": f"http://codex.test/series/{CODEX_UUID.upper()}/?tab=books"},
        format="json",
    )

    body_of(response)
    assert response.status_code == 200
    assert response.json()["codexSeriesUuid"] == CODEX_UUID
    link = CodexLink.objects.get(series=series)
    assert (str(link.codex_series_uuid), link.link_kind, link.local_max_volume) == (
        CODEX_UUID,
        LinkKind.MANUAL,
        None,
    )


def test_a_staff_session_can_link_too(session_admin_api, make_series):
    series = make_series("Berserk")

    response = session_admin_api.post(
        link_url(series.pk), {"codexSeriesUuid": CODEX_UUID}, format="json"
    )

    body_of(response)
    assert response.status_code == 200
    assert CodexLink.objects.filter(series=series).exists()


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"codexSeriesUuid": ""}, "Enter a Codex series URL"),
        ({"codexSeriesUuid": "   "}, "Enter a Codex series URL"),
        ({"codexSeriesUuid": "berserk"}, "is not a Codex series URL"),
        ({"codexSeriesUuid": "https://codex.test/libraries/1"}, "is not a Codex series URL"),
        ({}, "required"),
        ({"codexSeriesUuid": None}, "null"),
    ],
)
def test_bad_input_is_a_400_envelope_with_details(admin_api, make_series, payload, fragment):
    series = make_series("Berserk")

    response = admin_api.post(link_url(series.pk), payload, format="json")

    body_of(response)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_request"
    assert body["message"]
    assert fragment in " ".join(body["details"]["codexSeriesUuid"])
    assert not CodexLink.objects.exists()


def test_linking_an_unknown_series_is_a_404(admin_api, db):
    response = admin_api.post(link_url(999_999), {"codexSeriesUuid": CODEX_UUID}, format="json")

    body_of(response)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_unlink_is_204_and_idempotent(admin_api, make_series):
    series = make_series("Berserk")
    CodexLink.objects.create(series=series, codex_series_uuid=CODEX_UUID)

    first = admin_api.delete(link_url(series.pk))
    second = admin_api.delete(link_url(series.pk))

    assert (first.status_code, second.status_code) == (204, 204)
    assert first.content == b"" and second.content == b""
    assert not CodexLink.objects.exists()


def test_unlinking_an_unknown_series_is_a_404(admin_api, db):
    response = admin_api.delete(link_url(999_999))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("ignore", [True, False])
def test_ignore_completion_is_set_and_echoed(admin_api, make_series, ignore):
    series = make_series("Berserk", ignore_completion=not ignore)

    response = admin_api.put(ignore_url(series.pk), {"ignore": ignore}, format="json")

    body_of(response)
    assert response.status_code == 200
    assert response.json() == {"seriesId": series.pk, "ignoreCompletion": ignore}
    assert Series.objects.get(pk=series.pk).ignore_completion is ignore


@pytest.mark.parametrize("value", ["true", 1, 0, None, "yes", []])
def test_ignore_completion_must_be_a_json_boolean(admin_api, make_series, value):
    series = make_series("Berserk")

    response = admin_api.put(ignore_url(series.pk), {"ignore": value}, format="json")

    body_of(response)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert "ignore" in response.json()["details"]
    assert Series.objects.get(pk=series.pk).ignore_completion is False


def test_ignore_completion_on_an_unknown_series_is_a_404(admin_api, db):
    response = admin_api.put(ignore_url(999_999), {"ignore": True}, format="json")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "codex-link", {"codexSeriesUuid": CODEX_UUID}),
        ("delete", "codex-link", None),
        ("put", "ignore-completion", {"ignore": True}),
    ],
)
@pytest.mark.parametrize(
    "credentials",
    [{}, {"HTTP_X_API_KEY": READ_KEY}, {"HTTP_AUTHORIZATION": f"Bearer {READ_KEY}"}],
    ids=["anonymous", "read-key", "read-key-as-bearer"],
)
def test_the_read_tier_gets_401_and_changes_nothing(
    api_client, make_series, method, path, payload, credentials
):
    series = make_series("Berserk")
    CodexLink.objects.create(series=series, codex_series_uuid=uuid.uuid4())
    api_client.credentials(**credentials)

    response = getattr(api_client, method)(
        f"/api/v1/series/{series.pk}/{path}", payload, format="json"
    )

    body_of(response)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    link = CodexLink.objects.get(series=series)
    assert link.link_kind == LinkKind.AUTO
    assert Series.objects.get(pk=series.pk).ignore_completion is False


def test_a_bearer_without_a_configured_admin_token_is_503_misconfigured(
    api_client, make_series, tsundoku_config
):
    tsundoku_config(auth={"admin_token": None})
    series = make_series("Berserk")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {ADMIN_TOKEN}")

    response = api_client.post(link_url(series.pk), {"codexSeriesUuid": CODEX_UUID}, format="json")

    assert response.status_code == 503
    assert response.json()["error"] == "misconfigured"
    assert not CodexLink.objects.exists()


def test_hand_linking_works_while_the_integration_is_disabled(
    admin_api, make_series, tsundoku_config
):
    tsundoku_config(codex={"enabled": False})
    series = make_series("Berserk")

    response = admin_api.post(link_url(series.pk), {"codexSeriesUuid": CODEX_UUID}, format="json")

    assert response.status_code == 200
    assert CodexLink.objects.filter(series=series).exists()


def test_deep_links_never_carry_credentials_from_the_base_url(tsundoku_config):
    from codex_sync.overlay import series_url

    tsundoku_config(codex={"base_url": "https://reader:hunter2@codex.example.com:8443/sub"})
    assert series_url("9b2e") == "https://codex.example.com:8443/sub/series/9b2e"
