"""The Send button and the "sent" mark on release rows: admin only, left out for everyone else."""

from __future__ import annotations

from django import template

from torrents.sending import enabled

register = template.Library()


@register.inclusion_tag("torrents/_send.html", takes_context=True)
def send_button(context, release):
    """Send (when a client is configured) and "sent" when it was handed over before.

    `release.sent` comes from `torrents.sending.with_sent` on the page's
    query; a page that did not annotate it shows no mark rather than
    querying per row.
    """
    if not context.get("is_admin"):
        return {"show": False}
    request = context.get("request")
    return {
        "show": True,
        "release": release,
        "can_send": enabled(),
        "sent": bool(getattr(release, "sent", False)),
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }
