"""The feed card (`{% series_card %}`), and URLs reversed once per page (`url_by_pk`).

The card is built in Python; these check what the template used to
guarantee: every value from the catalog escaped, the chips other apps add
(Codex badge, follow button) inside it, and each link the route's own URL.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feed.models import Series, SeriesKind, SeriesStatus
from feed.templatetags.feed_tags import card
from tsundoku.templatetags.tsundoku_tags import url_by_pk

HOSTILE = '<script>alert("x")</script> & "quotes" \'too\''


def detail_url(pk: int) -> str:
    return reverse("feed:detail", args=[pk])


@pytest.mark.parametrize("pk", [1, 7, 42, 123456789])
@pytest.mark.parametrize("viewname", ["feed:detail", "follows:toggle", "feed:review-link"])
def test_url_by_pk_is_what_reverse_gives_for_every_id(viewname, pk):
    assert url_by_pk(viewname)(pk) == reverse(viewname, args=[pk])


def test_url_by_pk_refuses_a_route_without_one_integer_argument():
    with pytest.raises(Exception):  # noqa: B017 - NoReverseMatch or ValueError, either refuses
        url_by_pk("feed:index")


def test_a_card_escapes_every_value_from_the_catalog():
    series = Series(
        pk=5,
        canonical_title=HOSTILE,
        kind=SeriesKind.MANGA,
        status=SeriesStatus.ONGOING,
        year=2001,
        release_count=0,
        first_seen_at=timezone.now() - timedelta(days=3),
    )
    html = card(series, chips="", detail_url=detail_url)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    assert f'<a href="{detail_url(5)}">' in html


def test_a_card_shows_kind_year_status_progress_and_the_last_release():
    now = timezone.now()
    series = Series(
        pk=9,
        canonical_title="Berserk",
        kind=SeriesKind.MANGA,
        status=SeriesStatus.COMPLETED,
        year=1989,
        highest_volume=41.0,
        total_volumes=42,
        highest_chapter=None,
        release_count=1234,
        last_release_at=now - timedelta(days=2),
        first_seen_at=now - timedelta(days=400),
    )
    html = card(series, chips='<span class="chip">extra</span>', detail_url=detail_url)
    assert '<p class="card__meta">Manga · 1989</p>' in html
    assert f'<span class="chip chip--completed">{SeriesStatus.COMPLETED.label}</span>' in html
    assert '<span class="chip">extra</span>' in html  # the chips go in as given
    assert "<dd>41<span" in html and "> of </span>42</span></dd>" in html
    assert 'title="None seen yet"' in html  # no chapter seen yet
    assert re.search(r"1,234 releases · <time [^>]*>2\xa0days ago</time>", html)


def test_a_card_without_releases_says_when_the_series_was_first_seen():
    series = Series(
        pk=3,
        canonical_title="Quiet",
        release_count=0,
        first_seen_at=timezone.now() - timedelta(hours=5),
    )
    html = card(series, chips="", detail_url=detail_url)
    assert re.search(r"No releases · seen <time [^>]*>5\xa0hours ago</time>", html)
    assert '<p class="card__meta">Manga</p>' in html  # no year, no separator


@pytest.mark.django_db
def test_feed_cards_escape_hostile_titles_for_every_reader(
    reader_client, admin_client, make_series
):
    make_series(HOSTILE, release_count=1)
    for visitor in (Client(), reader_client, admin_client):
        html = visitor.get("/").content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
