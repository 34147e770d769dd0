"""Template helpers for the feed pages: provider links, safe URLs, covers and their tiles.

Each helper is a small pure function registered as a filter or tag, so the
tests call them directly without rendering a template.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from urllib.parse import quote

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import pluralize
from django.utils.html import format_html
from django.utils.safestring import SafeString

from covers.cache import local_src
from tsundoku.templatetags.tsundoku_tags import page_url_by_pk, progress, time_ago

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


# A feed card, built in Python: a page draws fifty, and as template markup
# each card cost some thirty nodes and tags to render (half the page's time).
# The chips other apps add (the Codex badge, the follow button) come from the
# template, between `{% series_card %}` and `{% end_series_card %}`.
CARD = (
    "{cover}\n"
    '      <div class="card__body">\n'
    '        <h2 class="card__title"><a href="{url}">{title}</a></h2>\n'
    '        <p class="card__meta">{kind}{year}</p>\n'
    '        <div class="chips">\n'
    '          <span class="chip chip--{status}">{status_label}</span>\n'
    "          {chips}\n"
    "        </div>\n"
    '        <dl class="card__stats">\n'
    "          <div><dt>Volume</dt><dd>{volume}</dd></div>\n"
    "          <div><dt>Chapter</dt><dd>{chapter}</dd></div>\n"
    "        </dl>\n"
    '        <p class="card__time">{activity}</p>\n'
    "      </div>"
)


def card(series, chips: str, detail_url: Callable[[int], str]) -> SafeString:
    """A series' feed card: cover, title, kind and year, status, `chips`, progress, activity.

    `chips` is markup (already escaped); everything taken from `series` is escaped here.
    """
    if series.release_count:
        activity = format_html(
            "{} release{} · {}",
            intcomma(series.release_count),
            pluralize(series.release_count),
            time_ago(series.last_release_at),
        )
    else:
        activity = format_html("No releases · seen {}", time_ago(series.first_seen_at))
    return format_html(
        CARD,
        cover=cover(series, "card"),
        url=detail_url(series.pk),
        title=series.canonical_title,
        kind=series.get_kind_display(),
        year=format_html(" · {}", series.year) if series.year else "",
        status=series.status,
        status_label=series.get_status_display(),
        chips=SafeString(chips),
        volume=progress(series.highest_volume, series.total_volumes),
        chapter=progress(series.highest_chapter, series.total_chapters),
        activity=activity,
    )


class SeriesCardNode(template.Node):
    """`card` for the series the tag names, with the chips its body renders."""

    def __init__(self, series: template.base.FilterExpression, chips: template.NodeList) -> None:
        self.series = series
        self.chips = chips

    def render(self, context: template.Context) -> SafeString:
        chips = self.chips.render(context).strip()
        return card(self.series.resolve(context), chips, page_url_by_pk(context, "feed:detail"))


@register.tag
def series_card(parser: template.base.Parser, token: template.base.Token) -> SeriesCardNode:
    """`{% series_card series %}chips{% end_series_card %}`: the card, with the chips given."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes one argument: the series")
    chips = parser.parse(("end_series_card",))
    parser.delete_first_token()
    return SeriesCardNode(parser.compile_filter(bits[1]), chips)
