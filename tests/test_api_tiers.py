"""Access tiers on the discovery API: the Codex overlay exists for admins only.

For the read tier the admin-only data is absent (no `codex`/`owned` keys, no
Codex UUID or deep link anywhere in a body) and admin-only parameters are
silently ignored, so the API cannot be used to probe the library.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from codex_sync.models import CodexLink, ConnectionStatus
from tests.helpers import ADMIN_TOKEN, READ_KEY

SYNCED = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)
ADMIN_ONLY_KEYS = {"codex", "owned", "codexSyncedAt", "gap"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(make_series):
    """Three series: one behind on Codex, one caught up, one not on Codex."""
    ConnectionStatus.objects.create(pk=ConnectionStatus.SINGLETON_ID, last_success_at=SYNCED)
    behind = make_series(
        "Behind",
        anilist="1",
        highest_volume=10.0,
        volume_coverage=[[1, 10]],
        release_count=1,
    )
    complete = make_series(
        "Complete",
        anilist="2",
        highest_volume=5.0,
        volume_coverage=[[1, 5]],
        release_count=1,
    )
    missing = make_series("Missing", anilist="3", highest_volume=3.0, release_count=1)
    links = {
        behind.id: CodexLink.objects.create(
            series=behind,
            codex_series_uuid=uuid.uuid4(),
            local_max_volume=8,
            volumes_owned=8,
            synced_at=timezone.now(),
        ),
        complete.id: CodexLink.objects.create(
            series=complete,
            codex_series_uuid=uuid.uuid4(),
            local_max_volume=5,
            synced_at=timezone.now(),
        ),
    }
    return {"behind": behind, "complete": complete, "missing": missing, "links": links}


def read_endpoints(library) -> list[tuple[str, str, dict | None]]:
    series_id = library["behind"].id
    return [
        ("get", "/api/v1/series", None),
        ("get", "/api/v1/series?codexStatus=behind", None),
        ("get", f"/api/v1/series/{series_id}", None),
        ("get", "/api/v1/series/feed", None),
        ("post", "/api/v1/series/feed", {"externalIds": ["anilist:1", "anilist:2"]}),
        ("get", "/api/v1/series/lookup?provider=anilist&externalId=1", None),
        ("get", "/api/v1/stats", None),
        ("get", "/api/v1/info", None),
        ("get", "/api/v1/health", None),
    ]


def call(client: APIClient, method: str, path: str, body: dict | None):
    if method == "post":
        return client.post(path, body or {}, format="json")
    return client.get(path)


def keys_anywhere(value) -> set[str]:
    """Every object key in a JSON document, at any depth."""
    if isinstance(value, dict):
        return set(value).union(*(keys_anywhere(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_anywhere(v) for v in value))
    return set()


def test_anonymous_payloads_carry_no_codex_data_anywhere(api_client, library):
    uuids = [str(link.codex_series_uuid) for link in library["links"].values()]

    for method, path, body in read_endpoints(library):
        response = call(api_client, method, path, body)
        assert response.status_code == 200, path
        raw = response.content.decode()
        assert not keys_anywhere(response.json()) & ADMIN_ONLY_KEYS, path
        assert not any(value in raw for value in uuids), path
        assert "codex.test" not in raw, path


def test_admin_sees_the_overlay_on_series_list_detail_and_stats(admin_api, library):
    behind = library["behind"]
    link = library["links"][behind.id]

    listing = admin_api.get("/api/v1/series").json()
    detail = admin_api.get(f"/api/v1/series/{behind.id}").json()
    stats = admin_api.get("/api/v1/stats").json()

    by_title = {item["canonicalTitle"]: item for item in listing["items"]}
    assert listing["codexSyncedAt"] == int(SYNCED.timestamp())
    assert by_title["Missing"]["owned"] is False
    assert by_title["Missing"]["codex"] is None
    assert by_title["Complete"]["owned"] is True
    assert by_title["Complete"]["codex"]["status"] == "complete"
    assert detail["owned"] is True
    assert detail["codex"]["status"] == "behind"
    assert detail["codex"]["codexSeriesUuid"] == str(link.codex_series_uuid)
    assert detail["codex"]["url"] == f"http://codex.test/series/{link.codex_series_uuid}"
    assert detail["codex"]["volumesOwned"] == 8
    assert detail["codex"]["gap"] == {"volumes": [{"start": 9, "end": 10}], "chapters": []}
    assert by_title["Complete"]["codex"]["gap"] == {"volumes": [], "chapters": []}
    assert stats["codex"] == {"linked": 2, "lastSyncAt": int(SYNCED.timestamp())}


def test_codex_synced_at_is_null_for_admins_before_the_first_sweep(admin_api, make_series):
    make_series()

    assert admin_api.get("/api/v1/series").json()["codexSyncedAt"] is None


@pytest.mark.parametrize("reader", ["anonymous", "logged_in_non_staff"])
def test_codex_status_filter_is_silently_ignored_for_the_read_tier(
    library, django_user_model, reader
):
    client = APIClient()
    if reader == "logged_in_non_staff":
        client.force_login(
            django_user_model.objects.create_user(username="reader", password="reader-pass-1")
        )

    plain = client.get("/api/v1/series")
    filtered = client.get("/api/v1/series", {"codexStatus": "behind"})

    assert filtered.status_code == 200
    assert filtered.json() == plain.json()
    assert filtered.json()["total"] == 3


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ("behind", ["Behind"]),
        ("complete", ["Complete"]),
        ("missing", ["Missing"]),
        ("any", ["Behind", "Complete"]),
        ("behind,missing", ["Behind", "Missing"]),
    ],
)
def test_codex_status_filter_applies_for_admins_with_a_right_total(
    admin_api, library, statuses, expected
):
    body = admin_api.get(
        "/api/v1/series", {"codexStatus": statuses, "sort": "title", "pageSize": 1}
    ).json()

    # One item per page: the total can only be right if the filter ran in SQL.
    assert body["total"] == len(expected)
    assert body["items"][0]["canonicalTitle"] == expected[0]


def test_staff_session_is_admin_on_the_api(client, staff_user, library):
    client.force_login(staff_user)

    body = client.get("/api/v1/series").json()

    assert all("codex" in item for item in body["items"])


def test_feed_and_lookup_have_no_overlay_even_for_admins(admin_api, library):
    feed = admin_api.post("/api/v1/series/feed", {}, format="json").json()
    lookup = admin_api.get("/api/v1/series/lookup", {"provider": "anilist", "externalId": "1"})

    assert not keys_anywhere(feed) & ADMIN_ONLY_KEYS
    assert not keys_anywhere(lookup.json()) & ADMIN_ONLY_KEYS


def test_health_info_and_stats_answer_everyone(api_client, library):
    health = api_client.get("/api/v1/health").json()
    info = api_client.get("/api/v1/info").json()
    stats = api_client.get("/api/v1/stats").json()

    assert health == {"status": "ok", "database": "ok"}
    assert info["name"] == "tsundoku"
    assert info["version"]
    assert stats["series"] == {"total": 3, "withReleases": 3}
    assert stats["externalIds"] == 3
    assert "codex" not in stats


class TestReadRequiresAuth:
    """`auth.read_requires_auth = true`: reads need the read key, a login, or the admin."""

    @pytest.fixture(autouse=True)
    def _reads_need_a_key(self, tsundoku_config):
        tsundoku_config(auth={"read_requires_auth": True})

    def test_reads_without_credentials_are_401(self, api_client, library):
        for method, path, body in read_endpoints(library):
            if path.endswith("/health"):
                continue
            response = call(api_client, method, path, body)
            assert response.status_code == 401, path
            assert response.json()["error"] == "unauthorized"

    @pytest.mark.parametrize(
        "headers",
        [
            {"HTTP_X_API_KEY": READ_KEY},
            {"HTTP_AUTHORIZATION": f"Bearer {READ_KEY}"},
            {"HTTP_AUTHORIZATION": f"Bearer {ADMIN_TOKEN}"},
        ],
        ids=["x-api-key", "read-key-as-bearer", "admin-token"],
    )
    def test_reads_with_the_read_key_or_admin_token_are_200(self, library, headers):
        client = APIClient()
        client.credentials(**headers)

        for method, path, body in read_endpoints(library):
            assert call(client, method, path, body).status_code == 200, path

    def test_read_key_holder_is_still_the_read_tier(self, library):
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=READ_KEY)

        listing = client.get("/api/v1/series", {"codexStatus": "behind"}).json()

        assert listing["total"] == 3
        assert not keys_anywhere(listing) & ADMIN_ONLY_KEYS
        assert client.get("/api/v1/releases").status_code == 401

    def test_wrong_key_is_401(self, library):
        client = APIClient()
        client.credentials(HTTP_X_API_KEY="not-the-key")

        assert client.get("/api/v1/series").status_code == 401

    def test_logged_in_reader_may_read(self, library, django_user_model):
        client = APIClient()
        client.force_login(
            django_user_model.objects.create_user(username="reader", password="reader-pass-1")
        )

        assert client.get("/api/v1/series").status_code == 200

    def test_health_stays_open_for_liveness_probes(self, api_client):
        assert api_client.get("/api/v1/health").status_code == 200
