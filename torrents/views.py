"""The torrent client page (settings, Test connection, send log) and the Send action: admin only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from feed.models import Release
from feed.pagination import int_or_none, paginate
from torrents.clients import ClientSettings, display_url
from torrents.models import SendLog, SendOutcome
from torrents.sending import check_connection, client_label, send_release
from tsundoku.access import admin_only

SEND_LOG_PAGE_SIZE = 50


@admin_only
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """What is configured (never the password), Test connection, and the send log."""
    config = ClientSettings.from_config()
    page = paginate(
        SendLog.objects.select_related("sent_by"),
        int_or_none(request.GET.get("page")),
        SEND_LOG_PAGE_SIZE,
    )
    return render(
        request,
        "torrents/index.html",
        {
            "config": config,
            "client_label": client_label(),
            "url": display_url(config.url),
            "password_set": bool(config.password),
            "page": page,
        },
    )


@admin_only
@require_POST
def test_connection(request: HttpRequest) -> HttpResponse:
    """Log in to the client and say what it answered."""
    check = check_connection()
    (messages.success if check.ok else messages.error)(request, check.message)
    return redirect("torrents:index")


@admin_only
@require_POST
def send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send one release to the client, then go back where the button was."""
    release = get_object_or_404(Release, pk=pk)
    log = send_release(release, user_id=request.user.pk if request.user.is_authenticated else None)
    if log.outcome == SendOutcome.SENT:
        messages.success(request, f"Sent “{release.title}”: {log.message}")
    elif log.outcome == SendOutcome.DUPLICATE:
        messages.info(request, f"“{release.title}”: {log.message}")
    else:
        messages.error(request, f"Could not send “{release.title}”: {log.message}")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("torrents:index")
    return redirect(target)
