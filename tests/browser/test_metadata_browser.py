"""The Metadata page in a real browser: it follows a running refresh and reloads when it ends."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from metadata.models import DumpRefresh, RefreshOutcome

pytestmark = pytest.mark.browser


def test_a_running_refresh_shows_progress_then_the_page_shows_how_it_ended(admin_page):
    from playwright.sync_api import expect

    refresh = DumpRefresh.objects.create(
        source="https://api.mangabaka.org/v1/database/series.sqlite.tar.gz",
        outcome=RefreshOutcome.RUNNING,
        phase="downloading",
        bytes_total=1000,
        bytes_downloaded=250,
    )
    page = admin_page
    page.goto("/metadata/")
    progress = page.locator("[data-metadata-progress]")
    expect(progress).to_have_text(re.compile(r"Refresh running: downloading \(25%"))

    # The worker moves on; the page's poll shows it without a reload.
    DumpRefresh.objects.filter(pk=refresh.pk).update(bytes_downloaded=750)
    expect(progress).to_have_text(re.compile(r"\(75%"))

    # The refresh fails; the page reloads on its own into the outcome.
    DumpRefresh.objects.filter(pk=refresh.pk).update(
        outcome=RefreshOutcome.FAILED, error="dump truncated", finished_at=timezone.now()
    )
    expect(page.locator("[data-metadata-last]")).to_contain_text("Failed")
    expect(page.locator("[data-metadata-last]")).to_contain_text("dump truncated")
    expect(progress).to_be_hidden()
