"""The provider chain: remembered miss → dump → live API → remember the miss; active_provider."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from metadata.mangabaka.provider import MangaBakaProvider
from metadata.models import NegativeLookup
from metadata.providers import ProviderError, active_provider, reset_provider
from tests.mangabaka_helpers import API, API_KEY, configure, fixture, install_dump, row


@pytest.fixture
def api_on(db, data_dir, settings):
    """API fallback on (no dump installed), pacing off."""
    configure(settings, api_fallback=True, api_key=API_KEY, min_request_gap_ms=0)
    yield active_provider()
    reset_provider()


@responses.activate
def test_a_miss_is_remembered_and_not_asked_again(api_on):
    responses.get(f"{API}/v1/series/424242", status=404, json=fixture("error-404.json"))

    assert api_on.get("424242") is None
    assert api_on.get("424242") is None

    assert len(responses.calls) == 1  # the second call made no HTTP request
    entry = NegativeLookup.objects.get()
    assert (entry.provider, entry.key) == ("mangabaka", "id:424242")
    assert entry.expires_at > timezone.now() + timedelta(days=6)


@responses.activate
def test_an_expired_miss_is_asked_again(api_on):
    responses.get(f"{API}/v1/series/424242", status=404, json=fixture("error-404.json"))
    api_on.get("424242")
    NegativeLookup.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    api_on.get("424242")

    assert len(responses.calls) == 2


@responses.activate
def test_foreign_id_misses_are_remembered_but_searches_are_not(api_on):
    responses.get(f"{API}/v1/source/anilist/1", json={"status": 200, "data": {"series": []}})
    responses.get(f"{API}/v1/series/search", json={"status": 200, "data": []})

    assert api_on.find_by_foreign_id("anilist", "1") is None
    assert api_on.find_by_foreign_id("anilist", "1") is None
    assert api_on.search("nothing here") == []
    assert api_on.search("nothing here") == []

    assert [call.request.path_url.split("?")[0] for call in responses.calls] == [
        "/v1/source/anilist/1",
        "/v1/series/search",
        "/v1/series/search",
    ]
    assert list(NegativeLookup.objects.values_list("key", flat=True)) == ["anilist:1"]


@responses.activate
def test_an_api_outage_is_an_error_not_a_remembered_miss(api_on, caplog):
    responses.get(f"{API}/v1/series/7", status=503, json={"status": 503, "message": "down"})
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as caught:
        api_on.get("7")
    assert not NegativeLookup.objects.exists()
    assert API_KEY not in str(caught.value) and API_KEY not in caplog.text


@responses.activate
def test_the_dump_answers_first_and_the_api_fills_its_gaps(db, data_dir, settings):
    configure(settings, api_fallback=True, min_request_gap_ms=0)
    install_dump([row(1677, "Chainsaw Man", source_anilist_id=105778)])
    responses.get(f"{API}/v1/series/2060", json=fixture("series-2060.json"))
    provider = active_provider()

    assert provider.get("1677").title == "Chainsaw Man"
    assert provider.find_by_foreign_id("anilist", "105778").external_id == "1677"
    assert provider.get("2060").title == "Omniscient Reader"
    assert provider.search("chainsaw")[0].external_id == "1677"  # the dump searches
    assert [call.request.path_url for call in responses.calls] == ["/v1/series/2060"]


def test_without_api_a_dump_miss_is_remembered_without_any_request(db, data_dir, settings):
    configure(settings, api_fallback=False)
    install_dump([row(1, "Only Series")])
    provider = active_provider()
    with responses.RequestsMock() as mocked:
        assert provider.get("2") is None
        assert provider.find_by_foreign_id("mal", "3") is None
        assert provider.find_by_foreign_id("not-a-provider", "3") is None
        assert len(mocked.calls) == 0
    assert set(NegativeLookup.objects.values_list("key", flat=True)) == {"id:2", "mal:3"}


def test_active_provider_needs_enabled_and_a_dump_or_the_api(db, data_dir, settings):
    configure(settings, enabled=True, api_fallback=False)
    assert active_provider() is None  # nothing to answer with
    install_dump([row(1, "Only Series")])
    provider = active_provider()
    assert isinstance(provider, MangaBakaProvider)
    assert active_provider() is provider  # one per process
    configure(settings, enabled=False)
    assert active_provider() is None
    configure(settings, enabled=True, api_fallback=True)
    assert active_provider() is not provider  # rebuilt for the new configuration
    active_provider.cache_clear()
    assert active_provider() is not None
