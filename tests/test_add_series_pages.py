"""Adding series from the metadata provider: the "Add series" page and the review queue."""

from __future__ import annotations

import pytest
from django.utils import timezone

from feed.models import ExternalId, Release, Resolution, Series, SeriesOrigin
from follows.models import Follow
from tests.fakes import FakeProvider, metadata

SOLO_LEVELING = metadata(
    "3397",
    "Solo Leveling",
    native_title="나 혼자만 레벨업",
    kind="manhwa",
    year=2018,
    total_volumes=15,
    foreign_ids={"anilist": "105398", "mangaupdates": "6z1uqw7"},
)
CHAINSAW_MAN = metadata("1677", "Chainsaw Man", kind="manga", foreign_ids={"anilist": "105778"})


@pytest.fixture
def provider(monkeypatch) -> FakeProvider:
    fake = FakeProvider(records=[SOLO_LEVELING, CHAINSAW_MAN])
    for where in ("feed.views.active_provider", "feed.resolution.active_provider"):
        monkeypatch.setattr(where, lambda: fake)
    return fake


def page_text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_the_add_page_is_for_the_admin_only(client, django_user_model, provider):
    response = client.get("/series/add?q=solo")
    assert response.status_code == 302 and "/login" in response["Location"]

    reader = django_user_model.objects.create_user(username="reader", password="pw-123456789")
    client.force_login(reader)
    assert client.get("/series/add?q=solo").status_code == 403
    assert (
        client.post("/series/add", {"provider": "mangabaka", "external_id": "3397"}).status_code
        == 403
    )
    assert not Series.objects.exists()
    assert provider.calls == []


def test_a_title_search_lists_provider_series_and_marks_those_in_the_catalog(
    admin_client, provider, make_series
):
    make_series("Chainsaw Man", anilist="105778")
    text = page_text(admin_client.get("/series/add", {"q": "chainsaw man"}))

    assert ("search", "chainsaw man", 20) in provider.calls
    assert "Chainsaw Man" in text and "In the catalog" in text


def test_a_pasted_url_is_looked_up_by_its_id(admin_client, provider):
    text = page_text(admin_client.get("/series/add", {"q": "https://anilist.co/manga/105398"}))

    assert provider.calls == [("find_by_foreign_id", "anilist", "105398")]
    assert "Solo Leveling" in text and 'name="external_id" value="3397"' in text


def test_a_mangadex_url_says_the_provider_cannot_look_it_up(admin_client, provider):
    url = "https://mangadex.org/title/a77742b1-befd-49a4-bff5-1ad4e6b0ef7b"
    text = page_text(admin_client.get("/series/add", {"q": url}))

    assert "cannot look up MangaDex ids" in text
    assert provider.calls == []


def test_adding_creates_the_series_once_and_opens_its_page(admin_client, provider):
    form = {"provider": "mangabaka", "external_id": "3397"}
    response = admin_client.post("/series/add", form)

    series = Series.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/series/{series.pk}/"
    assert series.origin == SeriesOrigin.ADDED and series.total_volumes == 15
    assert ExternalId.objects.filter(series=series, provider="mangaupdates").exists()

    again = admin_client.post("/series/add", form, follow=True)
    assert "already in the catalog" in again.content.decode()
    assert Series.objects.count() == 1


def test_adding_a_series_a_release_created_promotes_it_to_added(admin_client, provider):
    from feed.catalog import upsert_from_metadata

    created = upsert_from_metadata(SOLO_LEVELING).series
    admin_client.post("/series/add", {"provider": "mangabaka", "external_id": "3397"})

    created.refresh_from_db()
    assert created.origin == SeriesOrigin.ADDED


def test_a_tampered_or_unknown_pick_is_refused_with_a_message(admin_client, provider):
    wrong_provider = admin_client.post(
        "/series/add", {"provider": "anilist", "external_id": "3397"}, follow=True
    )
    assert "not a series the metadata provider offered" in wrong_provider.content.decode()
    unknown = admin_client.post(
        "/series/add", {"provider": "mangabaka", "external_id": "999999"}, follow=True
    )
    assert "no longer knows that series" in unknown.content.decode()
    assert not Series.objects.exists()


def test_a_failing_provider_is_explained_on_the_page(admin_client, provider):
    provider.failing = True
    text = page_text(admin_client.get("/series/add", {"q": "solo"}))
    assert "MangaBaka is unreachable" in text

    response = admin_client.post(
        "/series/add", {"provider": "mangabaka", "external_id": "3397"}, follow=True
    )
    assert "Could not reach the metadata provider" in response.content.decode()
    assert not Series.objects.exists()


def test_without_a_provider_the_page_says_how_to_get_one(admin_client, monkeypatch):
    monkeypatch.setattr("feed.views.active_provider", lambda: None)
    text = page_text(admin_client.get("/series/add", {"q": "solo"}))
    assert "No metadata provider" in text and "refresh_metadata" in text


def _waiting_release(title: str, **fields) -> Release:
    return Release.objects.create(
        external_id=title[:10],
        source_name="nyaa-test",
        title=title,
        posted_at=timezone.now(),
        **fields,
    )


def test_a_provider_candidate_in_review_is_created_and_linked(admin_client, provider):
    release = _waiting_release(
        "Solo Levelling Ragnarok v01",
        resolution=Resolution.REVIEW_PENDING,
        candidates=[
            {
                "seriesId": None,
                "title": "Solo Leveling",
                "score": 0.8,
                "provider": "mangabaka",
                "externalId": "3397",
                "year": 2018,
            }
        ],
    )
    text = page_text(admin_client.get("/review/"))
    assert "Create &amp; link" in text and 'name="external_id" value="3397"' in text

    admin_client.post(
        f"/review/{release.pk}/link", {"provider": "mangabaka", "external_id": "3397"}
    )

    release.refresh_from_db()
    assert release.resolution == Resolution.RESOLVED
    assert release.series.canonical_title == "Solo Leveling"
    assert release.series.origin == SeriesOrigin.PROVIDER
    assert release.series.release_count == 1


def test_the_review_search_also_asks_the_provider(admin_client, provider):
    release = _waiting_release("Mystery Pack v01")
    text = page_text(
        admin_client.get(
            "/review/", {"state": "unresolved", "release": release.pk, "q": "solo leveling"}
        )
    )
    assert "From MangaBaka" in text
    assert 'name="external_id" value="3397"' in text


def test_add_and_follow_adds_the_series_and_follows_it_for_the_admin(
    admin_client, staff_user, provider
):
    assert "Add &amp; follow" in page_text(admin_client.get("/series/add", {"q": "solo"}))

    admin_client.post(
        "/series/add", {"provider": "mangabaka", "external_id": "3397", "follow": "1"}
    )

    series = Series.objects.get(canonical_title="Solo Leveling")
    assert list(Follow.objects.values_list("user_id", "series_id")) == [(staff_user.pk, series.pk)]
