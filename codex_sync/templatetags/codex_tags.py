"""Template tags for the Codex overlay: the badge, and the admin panel on a series page.

Both render nothing at all for the read tier: the overlay is left out on the
server, never hidden with CSS. The badge also stays hidden until the first
successful sweep, so an admin never sees badges built from a half-set-up link table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from codex_sync import overlay
from codex_sync.models import SyncOutcome
from tsundoku.templatetags.tsundoku_tags import format_number

register = template.Library()


@dataclass(frozen=True)
class Badge:
    status: str
    label: str
    meaning: str
    tooltip: str


def badge_for(status: str | None, volumes_owned: int | None, gap: str = "") -> Badge | None:
    """The badge for a status; None when the series is not on Codex.

    `gap` is `overlay.describe_gap` of the series: the tooltip names what
    has surfaced since ("surfaced since: vol. 109–111, ch. 1135–1176").
    """
    if status not in overlay.BADGES:
        return None
    label, meaning = overlay.BADGES[status]
    tooltip = meaning if volumes_owned is None else f"{meaning} · ~{volumes_owned} owned"
    if gap:
        tooltip = f"{tooltip} · surfaced since: {gap}"
    return Badge(status=status, label=label, meaning=meaning, tooltip=tooltip)


def _last_sweep_at(context):
    """When the last sweep succeeded: asked once per request, however many badges render."""
    request = context.get("request")
    if request is None:
        return overlay.last_synced_at()
    if not hasattr(request, "_codex_synced_at"):
        request._codex_synced_at = overlay.last_synced_at()
    return request._codex_synced_at


def _synced(context) -> bool:
    """Has a sweep ever succeeded?"""
    return _last_sweep_at(context) is not None


@register.inclusion_tag("codex_sync/badge.html", takes_context=True)
def codex_badge(context, series):
    """The owned/behind/owned?/tracking-off badge linking to the series in Codex (admin only)."""
    if not context.get("is_admin") or not _synced(context):
        return {"badge": None}
    link = overlay.link_of(series)
    if link is None:
        return {"badge": None}
    gap = overlay.describe_gap(overlay.gap_of(series))
    return {
        "badge": badge_for(overlay.status_of(series), link.volumes_owned, gap),
        "url": overlay.series_url(link.codex_series_uuid),
    }


@register.inclusion_tag("codex_sync/series_panel.html", takes_context=True)
def codex_series_panel(context, series):
    """The admin's Codex box on a series page: counts, hand-link form, tracking toggle."""
    if not context.get("is_admin"):
        return {"show": False}
    link = overlay.link_of(series)
    show_badge = link is not None and _synced(context)
    gap = overlay.describe_gap(overlay.gap_of(series))
    return {
        "show": True,
        "series": series,
        "link": link,
        "url": overlay.series_url(link.codex_series_uuid) if link else None,
        "badge": (
            badge_for(overlay.status_of(series), link.volumes_owned, gap) if show_badge else None
        ),
        "gap": gap,
        "synced_at": overlay.synced_at_of(link, _last_sweep_at(context)) if link else None,
        "local_max_volume": format_number(link.local_max_volume) if link else None,
        "local_max_chapter": format_number(link.local_max_chapter) if link else None,
        "enabled": overlay.enabled(),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def codex_gap_line(context, series) -> str:
    """ "Codex: up to vol. 108, ch. 1134 · surfaced since: vol. 109–111" (admin only).

    Empty for the read tier, for a series not on Codex, and when nothing has
    surfaced beyond Codex's counts.
    """
    if not context.get("is_admin"):
        return ""
    link = overlay.link_of(series)
    gap = overlay.describe_gap(overlay.gap_of(series))
    if link is None or not gap:
        return ""
    return f"Codex: {overlay.describe_owned(link)} · surfaced since: {gap}"


@register.simple_tag(takes_context=True)
def codex_fills(context, release, series) -> str:
    """ "fills vol. 109–111" when a release carries what Codex lacks (admin only); else ""."""
    if not context.get("is_admin"):
        return ""
    fills = overlay.describe_gap(overlay.fills_of(release, series))
    return f"fills {fills}" if fills else ""


@register.simple_tag
def codex_outcome_labels() -> SafeString:
    """The sweep outcome labels as a JSON script (`codex-outcome-labels`) for `codex.js`.

    The models' choices are the one list of labels; the page script reads
    them from here rather than keeping a copy.
    """
    labels = {value: label for value, label in SyncOutcome.choices if value != SyncOutcome.RUNNING}
    return json_script(labels, "codex-outcome-labels")
