"""The follow button: for a signed-in visitor, about their own follow only."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from follows.models import Follow
from tsundoku.templatetags.tsundoku_tags import page_url_by_pk

register = template.Library()

# A tag building its form in Python rather than an included template: a feed
# page draws fifty, and an include costs a context and a render each.
FOLLOW_FORM = (
    '<form method="post" action="{action}" class="inline-form follow-form">\n'
    '  <input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">\n'
    '  <input type="hidden" name="next" value="{next}">\n'
    '  <input type="hidden" name="follow" value="{follow}">\n'
    '  <button type="submit" class="button button--small{ghost}" aria-pressed="{pressed}"'
    ' data-testid="follow-button">{label}<span class="visually-hidden"> {title}</span></button>\n'
    "</form>"
)


def is_followed(series, user_id: int) -> bool:
    """Whether `user_id` follows `series`: the page's `followed_at` annotation when present."""
    if hasattr(series, "followed_at"):
        return series.followed_at is not None
    return Follow.objects.filter(user_id=user_id, series=series).exists()


def _back_here(context: template.Context, request) -> str:
    """Where a button sends the visitor back to: this page, worked out once per render."""
    if "follow_next" not in context.render_context:
        context.render_context["follow_next"] = request.get_full_path()
    return context.render_context["follow_next"]


@register.simple_tag(takes_context=True)
def follow_button(context: template.Context, series) -> SafeString | str:
    """Follow/Unfollow form for a card, a row or the series page; nothing when signed out.

    Every button of a page shares its CSRF token (the request's one token),
    its `next` and its form action's shape (`page_url_by_pk`).
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    followed = is_followed(series, user.pk)
    return format_html(
        FOLLOW_FORM,
        action=page_url_by_pk(context, "follows:toggle")(series.pk),
        csrf_token=context.get("csrf_token") or "",
        next=_back_here(context, request),
        follow="false" if followed else "true",
        ghost=" button--ghost" if followed else "",
        pressed="true" if followed else "false",
        label="★ Following" if followed else "☆ Follow",
        title=series.canonical_title,
    )
