"""The Notifications page: targets (masked) with their delivery state, recent events, Send test."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from feed.pagination import int_or_none, paginate
from notifications.delivery import send_test, targets
from notifications.models import NotificationEvent
from tsundoku.access import admin_only

EVENTS_PAGE_SIZE = 50


@admin_only
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Each configured target as Apprise prints it privately, and what it last did."""
    return render(
        request,
        "notifications/index.html",
        {
            "targets": [target for _url, target in targets()],
            "page": paginate(
                NotificationEvent.objects.all(),
                int_or_none(request.GET.get("page")),
                EVENTS_PAGE_SIZE,
            ),
        },
    )


@admin_only
@require_POST
def test(request: HttpRequest) -> HttpResponse:
    """Send a test message to every target now and say how each answered."""
    deliveries = send_test()
    if not deliveries:
        messages.error(request, "No notification targets are configured (notifications.urls).")
    for delivery in deliveries:
        if delivery.ok:
            messages.success(request, f"Test sent to {delivery.label}.")
        else:
            messages.error(request, f"Test to {delivery.label} failed: {delivery.error}")
    return redirect("notifications:index")
