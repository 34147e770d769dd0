"""Which provider a name means, and when two external ids are the same id.

Provider names arrive spelled many ways (the API's lookup, Codex's release
plugin, Codex's own metadata sources); `normalize_provider` is the one map.
Ids compare verbatim — except MangaUpdates, which moved from decimal ids to
base-36 slugs (`hly6oqa`); both appear in the wild for the same series.
Release resolution, the API and the Codex sweep all ask this module.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from feed.models import Provider

_BASE36_DIGITS = string.digits + string.ascii_lowercase
MANGAUPDATES = "mangaupdates"

# Names other tools use for our provider tokens.
PROVIDER_ALIASES = {
    "myanimelist": "mal",
    "my_anime_list": "mal",
    "manga_updates": "mangaupdates",
    "animeplanet": "anime_planet",
    "anime-planet": "anime_planet",
    "animenewsnetwork": "anime_news_network",
    "ann": "anime_news_network",
    "metadata-mangabaka": "mangabaka",  # a Codex metadata plugin's name
}


def normalize_provider(name: str) -> str | None:
    """Our provider token for a provider name or alias; None when we have no such provider."""
    token = (name or "").strip().lower()
    token = PROVIDER_ALIASES.get(token, token)
    return token if token in Provider.values else None


def to_base36(number: int) -> str:
    """Lower-case base 36, the form of MangaUpdates' newer slugs (`hly6oqa`)."""
    digits = ""
    while number:
        number, remainder = divmod(number, 36)
        digits = _BASE36_DIGITS[remainder] + digits
    return digits or "0"


def canonical_external_id(provider: str, external_id: str) -> str:
    """One spelling per id: trimmed; MangaUpdates as decimal (an all-digit value is decimal)."""
    return canonicalizer(provider)(external_id or "")


def canonicalizer(provider: str) -> Callable[[str], str]:
    """`canonical_external_id` for one provider's (text) ids, as the cheapest function that does it.

    Trimming is all most providers need, so a caller canonicalizing many ids
    (the Codex sweep: 250k a run) gets `str.strip` itself rather than a
    Python call per id.
    """
    return _canonical_mangaupdates_id if provider == MANGAUPDATES else str.strip


def _canonical_mangaupdates_id(external_id: str) -> str:
    value = external_id.strip()
    if not value:
        return value
    lowered = value.lower()
    if lowered.isdigit():
        return str(int(lowered))
    if set(lowered) <= set(_BASE36_DIGITS):
        return str(int(lowered, 36))
    return value


def mangaupdates_forms(external_id: str) -> tuple[str, str]:
    """Both spellings of a MangaUpdates id, decimal first: `("38093726906", "hly6oqa")`."""
    decimal = canonical_external_id(MANGAUPDATES, external_id)
    return decimal, to_base36(int(decimal)) if decimal.isdigit() else external_id.lower()


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_HOST = r"https?://(?:www\.)?"

# Series page URLs per provider. Descriptions are HTML, so a query string may
# arrive with its "&" escaped as "&amp;".
PROVIDER_LINK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (provider.value, re.compile(_HOST + pattern, re.IGNORECASE))
    for provider, pattern in (
        # mangabaka.org/1677, /manga/1677/Chainsaw-Man, /series/1677; .dev is the old host.
        (
            Provider.MANGABAKA,
            r"mangabaka\.(?:org|dev)/(?:(?:series|manga|manhwa|manhua|novel|oel|other)/)?(\d+)\b",
        ),
        (Provider.ANILIST, r"anilist\.co/manga/(\d+)\b"),
        (Provider.MAL, r"myanimelist\.net/manga/(\d+)\b"),
        (
            Provider.MANGAUPDATES,
            r"mangaupdates\.com/series\.html\?(?:[^\s\"'<>#]*?&(?:amp;)?)?id=(\d+)\b",
        ),
        (Provider.MANGAUPDATES, r"mangaupdates\.com/series/([0-9a-z]+)\b"),
        (Provider.MANGADEX, rf"mangadex\.org/title/({_UUID})\b"),
    )
)


def provider_links(text: str) -> list[tuple[str, str]]:
    """`(provider, external_id)` pairs for series links in `text`, in order of appearance.

    MangaUpdates ids are listed in both of their forms (base-36 slug and
    decimal) because the catalog may hold either.
    """
    found: list[tuple[int, str, str]] = []
    for provider, pattern in PROVIDER_LINK_PATTERNS:
        for match in pattern.finditer(text or ""):
            value = match.group(1).lower()
            found.append((match.start(), provider, value))
            if provider == Provider.MANGAUPDATES.value:
                found.extend((match.start(), provider, form) for form in mangaupdates_forms(value))
    ordered = [(provider, value) for _start, provider, value in sorted(found, key=lambda f: f[0])]
    return list(dict.fromkeys(pair for pair in ordered if pair[1]))
