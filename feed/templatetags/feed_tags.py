"""Template helpers for the feed pages: provider links, safe URLs, covers and their tiles.

Each helper is a small pure function registered as a filter or tag, so the
tests call them directly without rendering a template.
"""

from __future__ import annotations

import zlib
from urllib.parse import quote

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from covers.cache import local_src

register = template.Library()

# Where each provider shows a manga. MangaUpdates accepts both its base-36
# slugs and the equivalent decimal ids under the same path.
PROVIDER_URLS: dict[str, str] = {
    "mangabaka": "https://mangabaka.dev/{id}",
    "anilist": "https://anilist.co/manga/{id}",
    "mal": "https://myanimelist.net/manga/{id}",
    "mangaupdates": "https://www.mangaupdates.com/series/{id}",
    "mangadex": "https://mangadex.org/title/{id}",
    "kitsu": "https://kitsu.app/manga/{id}",
    "shikimori": "https://shikimori.one/mangas/{id}",
    "anime_planet": "https://www.anime-planet.com/manga/{id}",
    "anime_news_network": "https://www.animenewsnetwork.com/encyclopedia/manga.php?id={id}",
}

# Links and covers come from feeds and imports we do not control; only these
# schemes may reach an href or src (never `javascript:` or `data:`).
SAFE_URL_SCHEMES = ("http", "https", "magnet")


@register.filter
def safe_url(url: str | None) -> str:
    """The URL if its scheme is http, https or magnet; otherwise ""."""
    url = (url or "").strip()
    scheme, separator, _rest = url.partition(":")
    if not separator or scheme.lower() not in SAFE_URL_SCHEMES:
        return ""
    return url


@register.simple_tag
def external_url(provider: str, external_id: str) -> str:
    """The provider's page for this id, or "" for a provider we do not know."""
    pattern = PROVIDER_URLS.get(provider)
    if pattern is None or not str(external_id).strip():
        return ""
    return pattern.format(id=quote(str(external_id).strip(), safe=""))


@register.filter
def initials(title: str) -> str:
    """Up to two letters for a cover placeholder: "Vinland Saga" → "VS", "Berserk" → "BE"."""
    # Punctuation goes first so "[Oshi no Ko]" still reads as "ON".
    cleaned = ("".join(c for c in word if c.isalnum()) for word in (title or "").split())
    words = [word for word in cleaned if word]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[1][0]).upper()


@register.filter
def tile_hue(title: str) -> int:
    """A stable hue (0–359) per title, so each placeholder cover keeps its colour."""
    return zlib.crc32((title or "").encode()) % 360


@register.simple_tag
def cover(series, size: str) -> SafeString:
    """A series' cover: its initials tile, under the cached image when there is one.

    The image is served from our own origin (`covers.cache.local_src`: one
    `stat`, no query); until it is cached the tile shows. A tag rather than
    an included template, since a feed page draws fifty of them.
    """
    title = series.canonical_title
    src = local_src(series.cover_url)
    image = (
        format_html('<img class="cover__img" src="{}" alt="" loading="lazy" decoding="async">', src)
        if src
        else ""
    )
    return format_html(
        '<div class="cover cover--{}" style="--hue: {}" aria-hidden="true">'
        '<span class="cover__initials">{}</span>{}</div>',
        size,
        tile_hue(title),
        initials(title),
        image,
    )
