"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against `live_server`.

Without /usr/bin/chromium the browser tests skip and say why, unless
`TSUNDOKU_REQUIRE_BROWSER=1` (CI) turns that into a failure: there a missing
browser is a broken setup, not a reason to pass quietly. Playwright is never
asked to download a browser of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a broken page fails fast.
TIMEOUT_MS = 10_000


def _unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.is_file():
        return (
            f"browser tests need Debian's chromium at {CHROMIUM} "
            "(`apt-get install chromium`; .ci/run installs it)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the playwright package (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One headless Chromium for the browser tests a worker runs in a row.

    Package-scoped rather than session-scoped on purpose: Playwright's sync
    API keeps an asyncio loop marked as running in this thread while it is
    started, and Django refuses ORM calls under a running loop. Stopping it
    when the last browser test is done keeps that out of the rest of the
    suite; `DJANGO_ALLOW_ASYNC_UNSAFE` lifts Django's guard for exactly as
    long, since the tests and their fixtures are plain synchronous code.
    """
    reason = _unavailable_reason()
    if reason is not None:
        if os.environ.get("TSUNDOKU_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TSUNDOKU_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A fresh browser tab (own cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def admin_page(page, staff_user, client, live_server):
    """A tab carrying the staff user's session (the web admin tier).

    The session comes from `force_login` rather than the form, to keep each
    test to the pages it is about; `log_in` covers the real form.
    """
    client.force_login(staff_user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": session.key, "value": session.value, "url": live_server.url}]
    )
    return page
