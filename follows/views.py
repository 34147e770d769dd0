"""Follow/unfollow and the Wanted page: a signed-in visitor's own follows only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from feed.models import Series
from feed.pagination import int_or_none, paginate
from follows.models import FeedToken, new_feed_token
from follows.queries import follow, unfollow
from follows.wanted import wanted_entries, wanted_series

WANTED_PAGE_SIZE = 25


@require_POST
def toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow (`follow=true`) or unfollow (`follow=false`) a series, then go back."""
    if not request.user.is_authenticated:
        raise PermissionDenied("Log in to follow series.")
    series = get_object_or_404(Series, pk=pk)
    if request.POST.get("follow") == "true":
        if follow(request.user.pk, series):
            messages.success(request, f"Following {series.canonical_title}.")
    elif unfollow(request.user.pk, series):
        messages.success(request, f"No longer following {series.canonical_title}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("feed:detail", pk=series.pk)
    return redirect(target)


@require_safe
def wanted(request: HttpRequest) -> HttpResponse:
    """What this visitor follows (for the admin also what Codex is behind on), best first."""
    if not request.user.is_authenticated and not request.is_admin:
        return redirect_to_login(request.get_full_path())
    follower_id = request.user.pk if request.user.is_authenticated else None
    page = paginate(
        wanted_series(follower_id, is_admin=request.is_admin),
        int_or_none(request.GET.get("page")),
        WANTED_PAGE_SIZE,
    )
    feed_url = None
    if follower_id is not None:
        token, _ = FeedToken.objects.get_or_create(user_id=follower_id)
        feed_url = request.build_absolute_uri(reverse("follows:feed", args=[token.token]))
    return render(
        request,
        "follows/wanted.html",
        {
            "page": page,
            "entries": wanted_entries(page.items, is_admin=request.is_admin),
            "atom_feed_url": feed_url,
        },
    )


@require_POST
def regenerate_feed(request: HttpRequest) -> HttpResponse:
    """A new secret for this user's feed URL; the old URL stops working at once."""
    if not request.user.is_authenticated:
        raise PermissionDenied("Log in to manage your feed.")
    FeedToken.objects.update_or_create(
        user_id=request.user.pk, defaults={"token": new_feed_token()}
    )
    messages.success(request, "Your feed has a new address; the old one no longer works.")
    return redirect("follows:wanted")
