"""Template helpers every app's pages use: numbers, spans, sizes, times, paging links.

Each helper is a small pure function registered as a filter or tag, so the
tests call them directly without rendering a template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil

register = template.Library()

BINARY_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")
# Stands in for the id when a route is reversed once per page (`url_by_pk`):
# digits no real id or other part of a URL has.
_PK_MARKER = 987654321987654321


@register.filter
def format_number(value: float | int | None) -> str:
    """A volume/chapter number as people write it: 12.0 → "12", 10.5 → "10.5"; None → ""."""
    if value is None or value == "":
        return ""
    number = float(value)
    if number.is_integer():
        return str(int(number))
    return f"{number:g}"


def format_numbers(values: Sequence[float | int | None]) -> list[str]:
    """`format_number` of each value, in one comprehension when all are numbers (exports)."""
    try:
        return [
            str(int(number)) if (number := float(value)).is_integer() else f"{number:g}"
            for value in values
        ]
    except (TypeError, ValueError):  # None, "" or other text: the rule one by one
        return [format_number(value) for value in values]


@register.simple_tag
def progress(highest: float | None, total: int | None) -> SafeString:
    """The highest number seen, and the known total muted beside it: "12 / 20"; "—" for none.

    A tag, not an included template: a feed page shows it twice per card, and
    an include costs a template render and a context of its own each time.
    """
    if highest is None:
        shown = mark_safe('<span class="muted" title="None seen yet">—</span>')
    else:
        shown = format_html("{}", format_number(highest))
    if not total:
        return shown
    return format_html(
        '{}<span class="muted"><span aria-hidden="true"> / </span>'
        '<span class="visually-hidden"> of </span>{}</span>',
        shown,
        total,
    )


@register.filter
def format_spans(spans: Iterable[Iterable[float]] | None) -> str:
    """Coverage as ranges: [[1, 5], [7, 7]] → "1–5, 7"; no spans → ""."""
    parts = []
    for start, end in spans or ():
        first, last = format_number(start), format_number(end)
        parts.append(first if first == last else f"{first}–{last}")
    return ", ".join(parts)


@register.filter
def filesize(size_bytes: int | None) -> str:
    """Bytes in binary units, one decimal, as Nyaa prints them: 12163481 → "11.6 MiB"."""
    if size_bytes is None or size_bytes == "":
        return ""
    size = float(size_bytes)
    if size < 1024:
        return f"{int(size)} B"
    for unit in BINARY_UNITS:
        size /= 1024
        if size < 1024 or unit == BINARY_UNITS[-1]:
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable: the last unit always returns")


def relative_time(value: datetime, now: datetime | None = None) -> str:
    """ "3 days ago", "in 2 hours", "just now": the largest unit only."""
    now = now or timezone.now()
    delta = (now - value).total_seconds()
    if abs(delta) < 60:
        return "just now"
    if delta > 0:
        return f"{timesince(value, now, depth=1)} ago"
    return f"in {timeuntil(value, now, depth=1)}"


@register.simple_tag
def time_ago(value: datetime | None, empty: str = "—") -> SafeString | str:
    """`<time>` with the relative time as text and the absolute date as tooltip."""
    if value is None:
        return empty
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M %Z").strip(),
        relative_time(value),
    )


@register.simple_tag
def querystring(params: Mapping[str, object], **changes: object) -> str:
    """ "?a=1&b=2" from `params` with `changes` applied; None, "" and page 1 drop out.

    Unlike Django's built-in tag of the same name it leaves empty values and
    the first page out of the URL, so links stay short and canonical.
    """
    merged = {**params, **changes}
    kept = {
        key: value
        for key, value in merged.items()
        if value is not None and value != "" and not (key == "page" and str(value) == "1")
    }
    return f"?{urlencode(kept, doseq=True)}" if kept else "?"


@register.simple_tag
def page_window(page: int, pages: int, radius: int = 2) -> list[int | None]:
    """Page numbers to offer around the current page, None for a gap: 1 … 4 5 [6] 7 8 … 20.

    A gap of a single page shows that page instead of an ellipsis, since the
    ellipsis would take the same room and hide a link.
    """
    shown = sorted({1, pages, *range(max(1, page - radius), min(pages, page + radius) + 1)})
    window: list[int | None] = []
    previous = 0
    for number in shown:
        if number - previous == 2:
            window.append(number - 1)
        elif number - previous > 2:
            window.append(None)
        window.append(number)
        previous = number
    return window


def url_by_pk(viewname: str) -> Callable[[int], str]:
    """`reverse(viewname, args=[pk])` for any pk, from a single `reverse`.

    For a route whose one argument is an `<int:pk>`: an integer's part of the
    URL is its digits, so every id's URL is the same prefix and suffix around
    them. A feed page links fifty series; fifty `reverse` calls cost more
    than the rest of a card.
    """
    marker = str(_PK_MARKER)
    prefix, found, suffix = reverse(viewname, args=[_PK_MARKER]).partition(marker)
    if not found or marker in suffix:
        raise ValueError(f"{viewname} does not put its one integer argument in the URL once")
    return lambda pk: f"{prefix}{int(pk)}{suffix}"


def page_url_by_pk(context: template.Context, viewname: str) -> Callable[[int], str]:
    """`url_by_pk(viewname)`, made once per render (the script prefix may vary by request)."""
    key = ("url_by_pk", viewname)
    if key not in context.render_context:
        context.render_context[key] = url_by_pk(viewname)
    return context.render_context[key]


@register.simple_tag(takes_context=True)
def pk_url(context: template.Context, viewname: str, pk: int) -> str:
    """`{% url viewname pk %}` for a route with one `<int:pk>`, reversed once per page."""
    return page_url_by_pk(context, viewname)(pk)
