"""Template helpers for covers: the `src` of a series cover on our own origin."""

from __future__ import annotations

from django import template

from covers.cache import local_src

register = template.Library()


@register.filter
def cover_src(cover_url: str | None) -> str:
    """`/covers/<key>` when the cover is cached, else "" (the template keeps the tile).

    No query: one `stat` per cover. A miss asks the worker to fetch it.
    """
    return local_src(cover_url)
