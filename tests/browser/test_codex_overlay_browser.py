"""The admin's Codex overlay in a real browser: badges, the filter, hand-linking, Refresh now."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from codex_sync.models import CodexLink, ConnectionStatus, LinkKind
from devtools.codex_simulator import SimulatorServer
from tests.helpers import CODEX_KEY, codex_uuid, log_in, page_html

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODEX = "http://codex.test"


@dataclass(frozen=True)
class Expected:
    """What the admin should see for one series."""

    series_id: int
    codex_uuid: str | None
    label: str | None
    tooltip: str | None


def link(series, number: int, **counts) -> str:
    uuid_text = codex_uuid(number)
    CodexLink.objects.create(
        series=series, codex_series_uuid=uuid_text, synced_at=timezone.now(), **counts
    )
    return uuid_text


@pytest.fixture
def catalog(make_series) -> dict[str, Expected]:
    """One series per badge, plus one not on Codex; keyed by title."""
    complete = make_series("Caught Up Saga", highest_volume=10, highest_chapter=80)
    behind = make_series("Lagging Chronicle", highest_volume=12)
    present = make_series("Uncounted Tale", highest_volume=5)
    ignored = make_series("Muted Epic", highest_volume=9, ignore_completion=True)
    unlinked = make_series("Stranger Story", highest_volume=3)
    return {
        "Caught Up Saga": Expected(
            complete.pk,
            link(complete, 1, local_max_volume=10, local_max_chapter=80.0, volumes_owned=9),
            "owned",
            "On Codex and caught up · ~9 owned",
        ),
        "Lagging Chronicle": Expected(
            behind.pk,
            link(behind, 2, local_max_volume=10),
            "behind",
            "Newer volumes/chapters surfaced than Codex owns",
        ),
        "Uncounted Tale": Expected(
            present.pk,
            link(present, 3, volumes_owned=4),
            "owned?",
            "On Codex, but counts can't be compared · ~4 owned",
        ),
        "Muted Epic": Expected(
            ignored.pk,
            link(ignored, 4, local_max_volume=2),
            "tracking off",
            "Completion tracking muted",
        ),
        "Stranger Story": Expected(unlinked.pk, None, None, None),
    }


@pytest.fixture
def synced() -> ConnectionStatus:
    """A first sweep has succeeded: from now on the admin sees badges."""
    return ConnectionStatus.objects.create(
        pk=ConnectionStatus.SINGLETON_ID, reachable=True, last_success_at=timezone.now()
    )


def visible_label(badge) -> str:
    """The badge's text as drawn on screen (its screen-reader-only part left out)."""
    return badge.evaluate(
        """el => Array.from(el.childNodes)
            .filter(node => !(node.classList && node.classList.contains("visually-hidden")))
            .map(node => node.textContent).join("").trim()"""
    )


def assert_badge(badge, expected: Expected) -> None:
    assert badge.count() == 1
    assert visible_label(badge) == expected.label
    assert badge.get_attribute("title") == expected.tooltip
    assert badge.get_attribute("href") == f"{CODEX}/series/{expected.codex_uuid}"
    assert badge.get_attribute("target") == "_blank"
    assert "noopener" in badge.get_attribute("rel")
    assert badge.is_visible()


def card(page, title: str):
    return page.locator("li.card").filter(has=page.get_by_role("link", name=title, exact=True))


def row(page, title: str):
    return page.locator("tbody tr").filter(has=page.get_by_role("link", name=title, exact=True))


def shown_titles(page) -> set[str]:
    return set(page.locator("li.card .card__title a").all_inner_texts())


def shown_total(page) -> int:
    """The total the results bar announces ("Showing 1–2 of 2 series" → 2)."""
    return int(page.locator(".results-bar__count strong").last.inner_text().replace(",", ""))


def test_feed_cards_show_each_badge_with_its_tooltip_and_codex_link(
    page, staff_user, catalog, synced
):
    log_in(page)  # the real login form, which lands on the feed
    assert page.get_by_role("heading", name="Feed", level=1).is_visible()
    for title, expected in catalog.items():
        badge = card(page, title).locator("a.codex-badge[data-codex-status]")
        if expected.label is None:
            assert badge.count() == 0, f"{title} is not on Codex and shows no badge"
        else:
            assert_badge(badge, expected)
    assert page.locator("a.codex-badge").count() == 4
    page_html(page)


def test_feed_list_rows_show_each_badge_in_the_codex_column(admin_page, catalog, synced):
    admin_page.goto("/?view=list")
    assert admin_page.get_by_role("columnheader", name="Codex").is_visible()
    for title, expected in catalog.items():
        badge = row(admin_page, title).locator("a.codex-badge[data-codex-status]")
        if expected.label is None:
            assert badge.count() == 0, f"{title} is not on Codex and shows no badge"
        else:
            assert_badge(badge, expected)
    assert admin_page.locator("a.codex-badge").count() == 4


def test_series_page_shows_the_badge_in_the_heading_and_the_codex_panel(
    admin_page, catalog, synced
):
    for title, expected in catalog.items():
        admin_page.goto(f"/series/{expected.series_id}")
        heading_badge = admin_page.locator(".series__heading a.codex-badge")
        panel = admin_page.get_by_test_id("codex-panel")
        if expected.label is None:
            assert heading_badge.count() == 0, f"{title} is not on Codex and shows no badge"
            assert panel.get_by_text("Not on Codex").is_visible()
            continue
        assert_badge(heading_badge, expected)
        assert_badge(panel.locator("a.codex-badge"), expected)
        open_link = panel.get_by_role("link", name="Open in Codex")
        assert open_link.get_attribute("href") == f"{CODEX}/series/{expected.codex_uuid}"
        page_html(admin_page)


def test_no_badges_anywhere_before_the_first_successful_sweep(admin_page, catalog):
    ConnectionStatus.objects.create(pk=ConnectionStatus.SINGLETON_ID, reachable=False)
    for path in ["/", "/?view=list"]:
        admin_page.goto(path)
        assert shown_total(admin_page) == len(catalog)
        assert admin_page.locator(".codex-badge").count() == 0, path
    admin_page.goto(f"/series/{catalog['Caught Up Saga'].series_id}")
    assert admin_page.locator(".codex-badge").count() == 0
    # The admin panel still shows the stored link itself.
    panel = admin_page.get_by_test_id("codex-panel")
    assert panel.get_by_role("link", name="Open in Codex").is_visible()


@pytest.mark.parametrize(
    ("choices", "query", "expected_titles"),
    [
        (["behind"], "codexStatus=behind", {"Lagging Chronicle"}),
        (
            ["owned", "owned?"],
            "codexStatus=complete&codexStatus=present",
            {"Caught Up Saga", "Uncounted Tale"},
        ),
        (["tracking off"], "codexStatus=ignored", {"Muted Epic"}),
        (["Not on Codex"], "codexStatus=missing", {"Stranger Story"}),
        (
            ["On Codex (any)"],
            "codexStatus=any",
            {"Caught Up Saga", "Lagging Chronicle", "Uncounted Tale", "Muted Epic"},
        ),
    ],
)
def test_codex_filter_narrows_the_feed_and_its_total(
    admin_page, catalog, synced, choices, query, expected_titles
):
    admin_page.goto("/")
    assert shown_total(admin_page) == len(catalog)
    for choice in choices:
        admin_page.get_by_role("checkbox", name=choice, exact=True).check()
    admin_page.get_by_role("button", name="Apply").click()
    admin_page.wait_for_url(f"**{query}*")
    assert shown_titles(admin_page) == expected_titles
    assert shown_total(admin_page) == len(expected_titles)
    # The chosen chips stay ticked, so the admin sees what narrowed the feed.
    assert admin_page.locator("input[name=codexStatus]:checked").count() == len(choices)


def test_hand_linking_from_the_series_page_then_unlinking(admin_page, catalog, synced):
    series_id = catalog["Stranger Story"].series_id
    target = str(uuid.UUID(codex_uuid(42)))
    admin_page.goto(f"/series/{series_id}")
    panel = admin_page.get_by_test_id("codex-panel")
    assert panel.get_by_text("Not on Codex").is_visible()

    panel.locator("#codex-series-uuid").fill(f"{CODEX}/series/{target}")
    panel.get_by_role("button", name="Link", exact=True).click()

    success = admin_page.locator(".message--success")
    success.filter(has_text=f"Linked Stranger Story to Codex series {target}").wait_for()
    panel = admin_page.get_by_test_id("codex-panel")
    assert panel.get_by_role("link", name="Open in Codex").get_attribute("href") == (
        f"{CODEX}/series/{target}"
    )
    assert panel.get_by_text("Manual (linked by the admin)").is_visible()
    # No counts yet, but ours are tracked: on Codex, not comparable.
    assert visible_label(admin_page.locator(".series__heading a.codex-badge")) == "owned?"
    stored = CodexLink.objects.get(series_id=series_id)
    assert (str(stored.codex_series_uuid), stored.link_kind) == (target, LinkKind.MANUAL)

    panel.get_by_role("button", name="Unlink").click()
    success.filter(has_text="Unlinked Stranger Story from Codex.").wait_for()
    panel = admin_page.get_by_test_id("codex-panel")
    assert panel.get_by_text("Not on Codex").is_visible()
    assert panel.get_by_role("link", name="Open in Codex").count() == 0
    assert admin_page.locator(".codex-badge").count() == 0
    assert not CodexLink.objects.filter(series_id=series_id).exists()


def test_hand_linking_rejects_text_that_is_not_a_codex_series(admin_page, catalog, synced):
    series_id = catalog["Stranger Story"].series_id
    admin_page.goto(f"/series/{series_id}")
    admin_page.locator("#codex-series-uuid").fill("not a codex series")
    admin_page.get_by_role("button", name="Link", exact=True).click()
    admin_page.locator(".message--error").filter(has_text="Not linked").wait_for()
    assert not CodexLink.objects.filter(series_id=series_id).exists()


# --- the connection page, against the Codex simulator over a real socket ----------

LIBRARY = [
    {
        "id": codex_uuid(101),
        "title": "Alpha",
        "externalIds": [{"source": "plugin:mangabaka", "externalId": "9001"}],
        "localMaxVolume": 7,
        "volumesOwned": 7,
    },
    {
        "id": codex_uuid(102),
        "title": "Beta",
        "externalIds": [{"source": "api:anilist", "externalId": "9002"}],
        "localMaxVolume": 2,
    },
    {
        "id": codex_uuid(103),
        "title": "Gamma",
        "externalIds": [{"source": "manual", "externalId": "shelf-3"}],
    },
]


@pytest.fixture
def codex(tsundoku_config):
    """The Codex simulator serving LIBRARY on a real socket, configured as tsundoku's Codex."""
    with SimulatorServer(library=LIBRARY, api_key=CODEX_KEY, port=0) as sim:
        tsundoku_config(codex={"base_url": sim.base_url, "api_key": CODEX_KEY})
        yield sim


@pytest.fixture
def sweeps_inline(monkeypatch):
    """Queued sweeps run at once, inside the request that queued them (no worker here).

    Inline rather than on another thread: the live server shares one in-memory
    SQLite connection, which two threads must not use at the same time.
    """
    from codex_sync.tasks import sweep_task

    def run_now(function_path: str, *args, **kwargs):
        assert function_path == "codex_sync.tasks.sweep_task"
        return sweep_task(*args)

    monkeypatch.setattr("codex_sync.tasks.async_task", run_now)


def fact(page, term: str):
    """The value next to a term on the connection card."""
    term_cell = page.locator(".codex-card dt").filter(has_text=re.compile(f"^{re.escape(term)}$"))
    return term_cell.locator("xpath=following-sibling::dd[1]")


def test_refresh_now_sweeps_and_updates_the_card_without_a_reload(
    admin_page, make_series, codex, sweeps_inline
):
    make_series("Alpha", mangabaka="9001", highest_volume=7)
    make_series("Beta", anilist="9002", highest_volume=3)
    admin_page.goto("/codex/")
    assert fact(admin_page, "Linked series").inner_text().startswith("0 of 0 fetched")
    assert fact(admin_page, "Last sync").inner_text() == "Never"
    # Survives only if the card is updated in place, not by loading the page again.
    admin_page.evaluate("window.stillTheSamePage = true")

    admin_page.get_by_role("button", name="Refresh now").click()

    admin_page.locator("[data-codex-live]").filter(
        has_text="Sweep finished: fetched 3, linked 2, new 2, removed 0"
    ).wait_for()
    assert fact(admin_page, "Linked series").inner_text().startswith("2 of 3 fetched")
    assert fact(admin_page, "Last sync").inner_text() != "Never"
    assert fact(admin_page, "Unmatched").inner_text().startswith("1 Codex series")
    assert admin_page.evaluate("window.stillTheSamePage") is True
    assert admin_page.get_by_role("button", name="Refresh now").is_enabled()
    assert codex.base_url in page_html(admin_page)

    admin_page.goto("/")
    assert visible_label(card(admin_page, "Alpha").locator("a.codex-badge")) == "owned"
    assert visible_label(card(admin_page, "Beta").locator("a.codex-badge")) == "behind"
    assert card(admin_page, "Alpha").locator("a.codex-badge").get_attribute("href") == (
        f"{codex.base_url}/series/{codex_uuid(101)}"
    )


def test_a_failed_refresh_names_its_outcome_with_the_models_label(
    admin_page, codex, sweeps_inline, tsundoku_config
):
    tsundoku_config(codex={"api_key": "not-the-codex-key"})
    admin_page.goto("/codex/")

    admin_page.get_by_role("button", name="Refresh now").click()

    admin_page.locator("[data-codex-live]").filter(
        has_text="Sweep failed (API key problem): API key rejected (401)"
    ).wait_for()


def test_test_connection_reports_the_codex_version(admin_page, codex):
    admin_page.goto("/codex/")
    admin_page.get_by_role("button", name="Test connection").click()
    admin_page.locator("[data-codex-live]").filter(has_text="the API key works").wait_for()
    assert fact(admin_page, "API key").inner_text() == "Connected"
    assert fact(admin_page, "Codex").inner_text().startswith("Reachable")
