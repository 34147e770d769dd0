"""Template helpers for exports: the "Export this view" link."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from feed.queries import SeriesFilters

register = template.Library()


@register.simple_tag
def export_view_url(filters: SeriesFilters) -> str:
    """The Exports page with the "New export" dialog open, scoped to these feed filters."""
    params = {"new": "1", **filters.as_query_params()}
    return f"{reverse('exports:index')}?{urlencode(params)}"
