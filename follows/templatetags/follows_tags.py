"""The follow button: for a signed-in visitor, about their own follow only."""

from __future__ import annotations

from django import template

from follows.models import Follow

register = template.Library()


def is_followed(series, user_id: int) -> bool:
    """Whether `user_id` follows `series`: the page's `followed_at` annotation when present."""
    if hasattr(series, "followed_at"):
        return series.followed_at is not None
    return Follow.objects.filter(user_id=user_id, series=series).exists()


@register.inclusion_tag("follows/_button.html", takes_context=True)
def follow_button(context, series, compact: bool = False):
    """Follow/Unfollow form for a card, a row or the series page; nothing when signed out."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {
        "show": True,
        "series": series,
        "followed": is_followed(series, user.pk),
        "compact": compact,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
