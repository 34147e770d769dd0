"""The per-user Atom feed of wanted releases, at a secret URL.

It carries only its owner's wanted releases: those of series they follow,
and for an admin also the releases that fill what Codex lacks on a behind
series. Any feed reader, or a torrent client's RSS auto-downloader, can
subscribe: each entry links to the .torrent (or the magnet when there is
none) and names the release's series.
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.db.models import F
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from codex_sync import overlay
from feed.models import Release, Resolution
from follows.models import FeedToken
from follows.wanted import wanted_series
from tsundoku.access import is_admin_user

ENTRIES = 50
# Releases of behind series are read this far back to find ENTRIES that fill a gap.
CANDIDATES = 500


def wanted_releases(user, *, is_admin: bool) -> list[Release]:
    """The newest releases this user wants, newest first, each with its `feed_note`.

    The note names the series and, for an admin only, what of Codex's gap
    the release fills.
    """
    series = wanted_series(user.pk, is_admin=is_admin)
    releases = (
        Release.objects.filter(series__in=series.values("pk"), resolution=Resolution.RESOLVED)
        .select_related("series__codex_link" if is_admin else "series")
        .order_by(F("observed_at").desc(), F("id").desc())
    )
    if not is_admin:
        chosen = list(releases[:ENTRIES])
        for release in chosen:
            release.feed_note = release.series.canonical_title
        return chosen
    followed = set(series.filter(followed_at__isnull=False).values_list("pk", flat=True))
    chosen = []
    for release in releases[:CANDIDATES]:
        fills = overlay.describe_gap(overlay.fills_of(release, release.series))
        if release.series_id in followed or fills:
            title = release.series.canonical_title
            release.feed_note = f"{title} · fills {fills}" if fills else title
            chosen.append(release)
        if len(chosen) == ENTRIES:
            break
    return chosen


class WantedFeed(Feed):
    """`/feeds/<token>/wanted.atom`: one user's wanted releases."""

    feed_type = Atom1Feed
    title = "tsundoku: wanted releases"
    subtitle = "New releases of the series you follow."

    def get_object(self, request: HttpRequest, token: str):
        owner = FeedToken.objects.select_related("user").filter(token=token).first()
        if owner is None or not owner.user.is_active:
            raise Http404("No such feed.")
        return owner.user

    def link(self, user) -> str:
        return reverse("follows:wanted")

    def items(self, user) -> list[Release]:
        return wanted_releases(user, is_admin=is_admin_user(user))

    def item_title(self, release: Release) -> str:
        return release.title

    def item_description(self, release: Release) -> str:
        return release.feed_note

    def item_link(self, release: Release) -> str:
        for candidate in (release.torrent_url, release.magnet):
            if candidate.startswith(("https://", "http://", "magnet:")):
                return candidate
        return reverse("feed:detail", args=[release.series_id])

    def item_guid(self, release: Release) -> str:
        return f"urn:tsundoku:release:{release.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, release: Release):
        return release.posted_at or release.observed_at

    def item_updateddate(self, release: Release):
        return release.observed_at

    def item_enclosure_url(self, release: Release) -> str | None:
        return release.torrent_url if release.torrent_url.startswith("http") else None

    def item_enclosure_length(self, release: Release) -> int:
        return release.size_bytes or 0

    item_enclosure_mime_type = "application/x-bittorrent"
