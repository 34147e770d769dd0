"""Fixtures shared by the whole suite: reference data, tiers, catalog builders."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.helpers import ADMIN_PASSWORD, ADMIN_TOKEN, ADMIN_USERNAME, FakeCodex, mocked_codex
from tsundoku.http import HOST_LIMITER

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def fresh_host_limiter() -> Iterator[None]:
    """Each test starts with no per-host gap or concurrency cap left by another (polls set them)."""
    HOST_LIMITER.reset()
    yield
    HOST_LIMITER.reset()


@pytest.fixture(scope="session")
def nyaa_sample() -> bytes:
    """The real Nyaa RSS sample (75 items) from `tests/fixtures/nyaa/`."""
    return (FIXTURES_DIR / "nyaa" / "nyaa_rss_sample.xml").read_bytes()


_titles = count(1)


@pytest.fixture
def make_series(db):
    """Build a catalog series: `make_series("Berserk", anilist="30002", highest_volume=41)`."""
    from feed.models import ExternalId, Provider, Series

    def build(title: str | None = None, **fields):
        external = {
            provider: fields.pop(provider)
            for provider in list(fields)
            if provider in Provider.values
        }
        series = Series.objects.create(canonical_title=title or f"Series {next(_titles)}", **fields)
        for provider, external_id in external.items():
            ExternalId.objects.create(series=series, provider=provider, external_id=external_id)
        return series

    return build


@pytest.fixture
def staff_user(db, django_user_model):
    return django_user_model.objects.create_user(
        username=ADMIN_USERNAME, password=ADMIN_PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def admin_client(client, staff_user):
    """Django test client logged in as a staff user (the web admin tier)."""
    client.force_login(staff_user)
    return client


@pytest.fixture
def api_client() -> APIClient:
    """Anonymous API client (the read tier)."""
    return APIClient()


@pytest.fixture
def admin_api() -> APIClient:
    """API client carrying the admin bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {ADMIN_TOKEN}")
    return client


@pytest.fixture
def tsundoku_config(settings):
    """Change config sections for one test: `tsundoku_config(codex={"enabled": False})`."""
    import dataclasses

    def change(**sections):
        current = settings.TSUNDOKU
        updated = {name: {**getattr(current, name), **values} for name, values in sections.items()}
        settings.TSUNDOKU = dataclasses.replace(current, **updated)
        return settings.TSUNDOKU

    return change


@pytest.fixture
def data_dir(settings, tmp_path):
    """A data dir of this test's own (export files are written under it)."""
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def run_exports_inline(monkeypatch):
    """The worker, run synchronously where an export job would be queued."""
    from exports.tasks import run_export_task

    monkeypatch.setattr(
        "exports.jobs.async_task", lambda func, job_id, **options: run_export_task(job_id)
    )


@pytest.fixture
def codex() -> Iterator[FakeCodex]:
    """A mocked Codex (`responses`) at the test config's base_url; other URLs fail to connect."""
    with mocked_codex() as fake:
        yield fake


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """Record what `request_sweep` hands to django-q instead of queueing it."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        "codex_sync.tasks.async_task", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    return calls


@pytest.fixture
def reader(django_user_model):
    """A signed-in user who is not staff: the read tier with an account."""
    return django_user_model.objects.create_user(username="reader", password="pw-reader-1")


@pytest.fixture
def reader_client(reader):
    from django.test import Client

    client = Client()
    client.force_login(reader)
    return client


@pytest.fixture
def queued_source_runs(monkeypatch) -> list[tuple]:
    """Record what the Sources page hands to django-q instead of queueing it."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        "feed.tasks.async_task", lambda func, *args, **options: calls.append((func, args))
    )
    return calls
