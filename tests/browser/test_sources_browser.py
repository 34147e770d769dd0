"""The Sources page in a real browser: Poll now queues, the page follows the run, history shows."""

from __future__ import annotations

import dataclasses
import re

import pytest

from feed.tasks import source_run_task
from tests.nyaa_helpers import rss, running_nyaa
from tsundoku.config import SourceConfig

pytestmark = pytest.mark.browser


def test_poll_now_shows_progress_then_the_finished_run(admin_page, settings, queued_source_runs):
    from playwright.sync_api import expect

    with running_nyaa() as site:
        source = SourceConfig(
            kind="nyaa",
            name="local-nyaa",
            feed_url=f"{site.url}/rss?page=rss",
            cron=None,
            enabled=True,
            detail_pages=False,
        )
        settings.TSUNDOKU = dataclasses.replace(settings.TSUNDOKU, sources=(source,))
        site.serve("/rss?page=rss", rss(site.url, ("101", "Frieren v01"), ("102", "Frieren v02")))
        page = admin_page

        page.goto("/sources/")
        expect(page.get_by_role("heading", name=re.compile("local-nyaa"))).to_be_visible()
        expect(page.get_by_text("No runs yet.")).to_be_visible()
        page.get_by_role("button", name="Poll now local-nyaa").click()

        expect(page.get_by_text("Poll of local-nyaa queued")).to_be_visible()
        expect(page.locator("[data-source-progress]")).to_have_text(re.compile("Poll running"))
        expect(page.get_by_role("button", name="Poll now local-nyaa")).to_be_disabled()
        assert queued_source_runs == [("feed.tasks.source_run_task", ("local-nyaa", "poll", 10))]

        # The worker runs the queued poll; the page notices and reloads on its own.
        source_run_task(*queued_source_runs[0][1])

        history = page.get_by_role("table", name=re.compile("Recent runs of local-nyaa"))
        expect(history).to_be_visible()
        expect(history.locator("tbody tr")).to_have_count(1)
        expect(history.locator("tbody tr td").nth(3)).to_have_text("2")
        expect(page.get_by_role("button", name="Poll now local-nyaa")).to_be_enabled()


def test_visitors_are_sent_to_log_in_and_see_no_sources_link(page, db, settings):
    page.goto("/")
    from playwright.sync_api import expect

    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sources")
    ).to_have_count(0)
    page.goto("/sources/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/sources/"))
