"""Following series: per user, private to that user, with a feed filter and sort."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feed.queries import parse_filters, series_queryset
from follows.models import Follow

pytestmark = pytest.mark.django_db


def feed_titles(client: Client, **params) -> list[str]:
    html = client.get("/", {"sort": "title", **params}).content.decode()
    return [
        line.split(">")[1].split("<")[0]
        for line in html.split('<h2 class="card__title"><a href=')[1:]
    ]


def test_following_from_the_series_page_and_back(reader_client, reader, make_series):
    berserk = make_series("Berserk", release_count=1)

    response = reader_client.post(
        f"/series/{berserk.pk}/follow", {"follow": "true", "next": f"/series/{berserk.pk}/"}
    )

    assert response.status_code == 302 and response["Location"] == f"/series/{berserk.pk}/"
    assert list(Follow.objects.values_list("user_id", "series_id")) == [(reader.pk, berserk.pk)]
    html = reader_client.get(f"/series/{berserk.pk}/").content.decode()
    assert "★ Following" in html and 'aria-pressed="true"' in html

    reader_client.post(f"/series/{berserk.pk}/follow", {"follow": "false"})

    assert not Follow.objects.exists()
    assert "☆ Follow" in reader_client.get(f"/series/{berserk.pk}/").content.decode()


def test_following_twice_keeps_one_follow(reader_client, make_series):
    berserk = make_series("Berserk")
    for _ in range(2):
        reader_client.post(f"/series/{berserk.pk}/follow", {"follow": "true"})
    assert Follow.objects.count() == 1


def test_a_foreign_next_url_goes_to_the_series_page_instead(reader_client, make_series):
    berserk = make_series("Berserk")
    response = reader_client.post(
        f"/series/{berserk.pk}/follow", {"follow": "true", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/series/{berserk.pk}/"


def test_anonymous_visitors_cannot_follow_and_see_no_button(client, make_series):
    berserk = make_series("Berserk", release_count=1)

    assert client.post(f"/series/{berserk.pk}/follow", {"follow": "true"}).status_code == 403
    assert client.get(f"/series/{berserk.pk}/follow").status_code == 405
    assert not Follow.objects.exists()
    assert (
        'data-testid="follow-button"' not in client.get(f"/series/{berserk.pk}/").content.decode()
    )
    assert 'name="following"' not in client.get("/").content.decode()


def test_following_an_unknown_series_is_a_404(reader_client):
    assert reader_client.post("/series/999999/follow", {"follow": "true"}).status_code == 404


def test_the_following_filter_lists_only_my_follows(
    reader_client, reader, admin_client, staff_user, make_series
):
    berserk, vinland, monster = (
        make_series(title, release_count=1) for title in ("Berserk", "Vinland Saga", "Monster")
    )
    Follow.objects.create(user=reader, series=berserk)
    Follow.objects.create(user=staff_user, series=vinland)

    assert feed_titles(reader_client, following="true") == ["Berserk"]
    assert feed_titles(admin_client, following="true") == ["Vinland Saga"]
    assert feed_titles(reader_client) == ["Berserk", "Monster", "Vinland Saga"]
    assert monster.pk  # followed by nobody, so in neither "following" list


def test_nobody_sees_anothers_follow_on_cards_or_the_series_page(
    reader_client, staff_user, make_series
):
    vinland = make_series("Vinland Saga", release_count=1)
    Follow.objects.create(user=staff_user, series=vinland)

    feed = reader_client.get("/").content.decode()
    page = reader_client.get(f"/series/{vinland.pk}/").content.decode()

    for html in (feed, page):
        assert "★ Following" not in html
        assert "☆ Follow" in html


def test_sort_by_when_followed_newest_first(reader_client, reader, make_series):
    now = timezone.now()
    for days_ago, title in ((3, "Berserk"), (1, "Monster"), (2, "Vinland Saga")):
        Follow.objects.create(
            user=reader,
            series=make_series(title, release_count=1),
            created_at=now - timedelta(days=days_ago),
        )
    make_series("Not followed", release_count=1)

    newest = feed_titles(reader_client, following="true", sort="followed")
    oldest = feed_titles(reader_client, following="true", sort="followed", order="asc")

    assert newest == ["Monster", "Vinland Saga", "Berserk"]
    assert oldest == ["Berserk", "Vinland Saga", "Monster"]


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_sort_by_when_followed_lists_every_series_as_one_order_would_across_pages(
    reader_client, reader, make_series, order
):
    now = timezone.now()
    titles = [f"Series {n}" for n in range(7)]
    catalog = [make_series(title, release_count=1) for title in titles]
    for days_ago, series in ((3, catalog[4]), (1, catalog[1]), (2, catalog[5])):
        Follow.objects.create(user=reader, series=series, created_at=now - timedelta(days=days_ago))
    # The rule: when followed (nulls last), then id — the single ORDER BY the
    # two parts stand in for.
    filters = parse_filters({"sort": "followed", "order": order}, is_admin=False, can_follow=True)
    expected = list(
        series_queryset(filters, is_admin=False, follower_id=reader.pk).values_list(
            "canonical_title", flat=True
        )
    )
    assert expected[:3] == (
        ["Series 1", "Series 5", "Series 4"]
        if order == "desc"
        else ["Series 4", "Series 5", "Series 1"]
    )

    # Pages of two cross from the followed series into the rest mid-page.
    shown = []
    for page in (1, 2, 3, 4):
        shown += feed_titles(reader_client, sort="followed", order=order, pageSize=2, page=page)
    assert shown == expected


@pytest.mark.parametrize("filter_query", ["", "status=completed", "kind=manga"])
def test_sort_by_when_followed_with_a_filter_lists_what_one_order_would_with_its_total(
    reader_client, reader, make_series, django_user_model, filter_query
):
    now = timezone.now()
    other = django_user_model.objects.create_user(username="other", password="pw-other-1")
    for n in range(14):
        series = make_series(
            f"Series {n:02}",
            status="completed" if n % 2 else "ongoing",
            kind="manga" if n % 3 else "manhwa",
            # A provider record no release names is outside the default scope.
            release_count=0 if n % 7 == 0 else 1,
            origin="provider",
        )
        if n % 3 != 1:
            Follow.objects.create(
                user=reader, series=series, created_at=now - timedelta(days=n % 4)
            )
        if n % 2 == 0:  # someone else's follows never place a series
            Follow.objects.create(user=other, series=series, created_at=now + timedelta(days=n))
    params = dict(pair.split("=") for pair in filter_query.split("&") if pair)
    for order in ("desc", "asc"):
        filters = parse_filters(
            {**params, "sort": "followed", "order": order}, is_admin=False, can_follow=True
        )
        expected = list(
            series_queryset(filters, is_admin=False, follower_id=reader.pk).values_list(
                "canonical_title", flat=True
            )
        )
        shown = []
        for page in range(1, 9):
            shown += feed_titles(
                reader_client, **params, sort="followed", order=order, pageSize=2, page=page
            )
        assert shown == expected, order
        html = reader_client.get("/", {**params, "sort": "followed", "order": order}).content
        assert f"<strong>{len(expected)}</strong> series".encode() in html, order


def test_sort_by_when_followed_costs_two_counts_and_at_most_two_selects(
    reader_client, reader, make_series, django_assert_max_num_queries
):
    for n in range(40):
        series = make_series(f"Series {n:02}", release_count=1)
        if n % 3 == 0:
            Follow.objects.create(user=reader, series=series)
    # session + user, a COUNT per part, and the page where the parts meet reads both.
    with django_assert_max_num_queries(6):
        html = reader_client.get("/", {"sort": "followed", "pageSize": 20}).content.decode()
    assert html.count("★ Following") == 14
    assert html.count("☆ Follow") == 6


def test_the_followed_sort_and_filter_are_dropped_for_anonymous_visitors(client, make_series):
    make_series("Berserk", release_count=1)
    make_series("Monster", release_count=1)

    # Both parameters dropped: every series, in the default order (last release, newest id).
    assert feed_titles(client, following="true", sort="followed") == ["Monster", "Berserk"]


def test_the_feed_with_follow_buttons_costs_the_same_few_queries(
    reader_client, reader, make_series, django_assert_max_num_queries
):
    for n in range(40):
        series = make_series(f"Series {n:02}", release_count=1)
        if n % 2:
            Follow.objects.create(user=reader, series=series)
    # session + user, COUNT + page (followed_at is a subquery of the page's SELECT).
    with django_assert_max_num_queries(4):
        html = reader_client.get("/", {"pageSize": 40}).content.decode()
    assert html.count("★ Following") == 20
    assert html.count("☆ Follow") == 20
    with django_assert_max_num_queries(4):
        html = reader_client.get("/", {"view": "list", "pageSize": 40}).content.decode()
    assert html.count("★ Following") == 20


# A follow form as the page draws it: action, CSRF token, next, follow.
FOLLOW_FORM = re.compile(
    r'<form method="post" action="([^"]+)" class="inline-form follow-form">'
    r'\s*<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">'
    r'\s*<input type="hidden" name="next" value="([^"]+)">'
    r'\s*<input type="hidden" name="follow" value="(true|false)">'
)


def test_every_follow_button_posts_to_its_series_with_the_pages_one_token(
    reader_client, reader, make_series
):
    series = [make_series(f"Series {n}", release_count=1) for n in range(3)]
    Follow.objects.create(user=reader, series=series[1])
    forms = FOLLOW_FORM.findall(reader_client.get("/", {"sort": "title"}).content.decode())
    assert [action for action, *_ in forms] == [f"/series/{s.pk}/follow" for s in series]
    assert len({token for _, token, *_ in forms}) == 1
    assert {next_url for *_, next_url, _follow in forms} == {"/?sort=title"}
    assert [follow for *_, follow in forms] == ["true", "false", "true"]

    # The token is the request's: a client that enforces CSRF can post the form.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader)
    page = strict.get("/", {"sort": "title"}).content.decode()
    action, token, next_url, follow = FOLLOW_FORM.findall(page)[0]
    answer = strict.post(action, {"csrfmiddlewaretoken": token, "next": next_url, "follow": follow})
    assert answer.status_code == 302 and answer["Location"] == "/?sort=title"
    assert Follow.objects.filter(user=reader, series=series[0]).exists()
