"""Follows as queryset pieces and small services, for the feed and the Wanted page.

Every function takes the follower's user id; `None` (an anonymous visitor)
follows nothing, so no query here can reveal anyone else's follows.
"""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery

from feed.models import Series
from follows.models import Follow


def _follows_of(user_id: int | None) -> QuerySet[Follow]:
    return Follow.objects.filter(user_id=user_id, series=OuterRef("pk"))


def with_followed_at(queryset: QuerySet, user_id: int | None) -> QuerySet:
    """Annotate `followed_at`: when this user followed each series, NULL if not.

    Idempotent, so a sorted page can be decorated again without a second subquery.
    """
    if "followed_at" in queryset.query.annotations:
        return queryset
    return queryset.annotate(followed_at=Subquery(_follows_of(user_id).values("created_at")[:1]))


def followed_first(
    queryset: QuerySet, user_id: int, *, descending: bool
) -> tuple[QuerySet, QuerySet]:
    """The "when followed" sort as two parts: this user's follows by when, then the rest by id.

    Read one after the other (`feed.pagination.paginate(then=...)`), they
    list what one ORDER BY `followed_at` (nulls last), `id` would, but the
    first is as long as the user's follows and the second walks the id
    order: neither sorts the catalog.

    The first joins the follows and orders by the follow's own `created_at`,
    so SQLite walks the (user, created_at) index and stops after a page. As
    `id IN (follows)` beside a filter (`status=completed`) it started from
    the filter's index instead, testing 35,000 series at 100k for a follow.
    Count it with `count_followed`, for the same reason.
    """
    follows = Follow.objects.filter(user_id=user_id).values("series_id")
    followed = queryset.filter(follows__user_id=user_id).annotate(
        followed_at=F("follows__created_at")
    )
    rest = queryset.exclude(pk__in=follows)
    if descending:
        return followed.order_by(F("followed_at").desc(), F("pk").desc()), rest.order_by("-pk")
    return followed.order_by("followed_at", "pk"), rest.order_by("pk")


def count_followed(queryset: QuerySet, user_id: int | None) -> int:
    """How many series of `queryset` this user follows, counted from their follows.

    Each follow tests its own series by id (a correlated `EXISTS`, which
    SQLite cannot turn around), so the count costs what one user follows;
    a COUNT over the followed series may start from a filter's index and
    test every series in it for a follow.
    """
    listed = queryset.order_by().filter(pk=OuterRef("series_id"))
    return Follow.objects.filter(user_id=user_id).filter(Exists(listed)).count()


def only_followed(queryset: QuerySet, user_id: int | None) -> QuerySet:
    """The series this user follows (none for an anonymous visitor).

    `id IN (this user's follows)` reads the follows through their
    (user, created_at) index and each series by id, so it costs what one
    user follows, not the catalog (a correlated EXISTS probed every series).
    """
    if user_id is None:
        return queryset.none()
    return queryset.filter(pk__in=Follow.objects.filter(user_id=user_id).values("series_id"))


def follow(user_id: int, series: Series) -> bool:
    """Follow a series; True when it was not followed before."""
    _, created = Follow.objects.get_or_create(user_id=user_id, series=series)
    return created


def unfollow(user_id: int, series: Series) -> bool:
    """Stop following a series; True when it was followed."""
    deleted, _ = Follow.objects.filter(user_id=user_id, series=series).delete()
    return bool(deleted)
