"""The Codex page names unmatched Codex series through the metadata provider."""

from __future__ import annotations

import uuid

import pytest

from codex_sync.models import UnmatchedCodexSeries
from feed.models import Series, SeriesOrigin
from tests.fakes import FakeProvider, metadata

KAIJI = metadata("4101", "Kaiji", kind="manga", year=1996, foreign_ids={"mangaupdates": "m63uxtz"})


@pytest.fixture
def provider(monkeypatch) -> FakeProvider:
    fake = FakeProvider(records=[KAIJI])
    for where in ("codex_sync.views.active_provider", "feed.views.active_provider"):
        monkeypatch.setattr(where, lambda: fake)
    return fake


def unmatched(*refs: dict) -> UnmatchedCodexSeries:
    return UnmatchedCodexSeries.objects.create(
        codex_series_uuid=uuid.uuid4(), external_ids=list(refs)
    )


def test_an_unmatched_codex_series_shows_the_provider_title_and_can_be_added(
    admin_client, provider
):
    unmatched(
        {"source": "manual", "externalId": "x"},
        {"source": "api:mangaupdates", "externalId": "m63uxtz"},
    )
    unmatched({"source": "comicinfo", "externalId": "y"})

    text = admin_client.get("/codex/").content.decode()

    assert "Kaiji" in text and "Add to catalog" in text
    # `manual` and `comicinfo` are not provider ids: nobody is asked about them.
    assert provider.calls == [("find_by_foreign_id", "mangaupdates", "m63uxtz")]

    admin_client.post("/series/add", {"provider": "mangabaka", "external_id": "4101"})
    series = Series.objects.get()
    assert series.origin == SeriesOrigin.ADDED
    assert series.external_ids.filter(provider="mangaupdates", external_id="m63uxtz").exists()
    assert "in the catalog" in admin_client.get("/codex/").content.decode()


def test_a_failing_provider_leaves_the_page_working(admin_client, provider):
    provider.failing = True
    unmatched({"source": "api:mangaupdates", "externalId": "m63uxtz"})

    response = admin_client.get("/codex/")

    assert response.status_code == 200
    assert "Add to catalog" not in response.content.decode()
