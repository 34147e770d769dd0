"""Access tiers: who is the admin, and who may read.

Every privacy guarantee hangs on one decision made once per request,
`is_admin(request)`: a logged-in staff user, or an API call carrying
`Authorization: Bearer <auth.admin_token>`. Views, serializers, templates and
filters all ask this function (or `request.is_admin`, which the middleware sets
from it) and nothing else.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import authentication, exceptions, permissions, throttling


def _bearer_token(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _matches(candidate: str | None, secret: str | None) -> bool:
    """Constant-time comparison; an unset secret never matches."""
    if not candidate or not secret:
        return False
    return hmac.compare_digest(candidate.encode(), secret.encode())


def has_admin_token(request: HttpRequest) -> bool:
    return _matches(_bearer_token(request), settings.TSUNDOKU.auth["admin_token"])


def is_admin_user(user) -> bool:
    """Whether this account is the admin: a signed-in staff user (None is not)."""
    return bool(user is not None and user.is_authenticated and user.is_staff)


def is_admin(request: HttpRequest) -> bool:
    """The one admin decision: staff session, or the admin bearer token."""
    cached = getattr(request, "_tsundoku_is_admin", None)
    if cached is not None:
        return cached
    decision = is_admin_user(getattr(request, "user", None)) or has_admin_token(request)
    request._tsundoku_is_admin = decision
    return decision


def may_read(request: HttpRequest) -> bool:
    """Read tier: open, unless `auth.read_requires_auth` asks for a key or login."""
    auth = settings.TSUNDOKU.auth
    if not auth["read_requires_auth"] or is_admin(request):
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    presented = request.META.get("HTTP_X_API_KEY") or _bearer_token(request)
    return _matches(presented, auth["api_key"])


class AccessTierMiddleware:
    """Sets `request.is_admin` for views and templates; gates reads when configured.

    Pages answer an unauthenticated reader by redirecting to the login page;
    the API answers 401 itself (through `ReadTier`) so it can use the JSON
    error envelope.
    """

    # `/feeds/` answers to its secret token (feed readers cannot log in).
    OPEN_PREFIXES = ("/accounts/", "/admin/", "/static/", "/api/", "/feeds/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # Pages honour the admin bearer too, so a wrong one is counted here by
        # the API's own rule; the API counts its requests as it authenticates.
        if not request.path.startswith("/api/"):
            refused = _refuse_wrong_token(request)
            if refused is not None:
                return refused
        request.is_admin = is_admin(request)
        path = request.path
        gated = not path.startswith(self.OPEN_PREFIXES)
        if gated and not may_read(request):
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Admin pages: anonymous readers go to the login page; anyone else non-admin gets 403.

    POSTs never redirect to a login form: an action that was not allowed
    should fail loudly, not silently bounce.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.is_admin:
            return view(request, *args, **kwargs)
        if request.method in {"GET", "HEAD"} and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied("This page is for the admin.")

    return wrapped


def access_tier(request: HttpRequest) -> dict[str, bool]:
    """Template context: `is_admin` for every template."""
    return {"is_admin": is_admin(request)}


class AdminTokenUser(AnonymousUser):
    """The identity behind a valid admin bearer token (API only)."""

    is_staff = True

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    def __str__(self) -> str:
        return "admin-token"


class WrongTokenThrottle(throttling.SimpleRateThrottle):
    """Requests carrying a bearer token that is not the admin's, per client address.

    Requests without a bearer, or with the right one, are never counted, so
    normal use never meets this limit. The read key may also travel as a
    bearer; it is not counted either.
    """

    scope = "wrong_token"
    rate = "20/min"

    def get_cache_key(self, request, view) -> str | None:
        # A DRF request (the API) or a plain Django one (pages, via the middleware).
        django_request = getattr(request, "_request", request)
        token = _bearer_token(django_request)
        if token is None or has_admin_token(django_request):
            return None
        if _matches(token, settings.TSUNDOKU.auth["api_key"]):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _refuse_wrong_token(request: HttpRequest) -> HttpResponse | None:
    """A page's 429 + Retry-After once this address sent too many wrong bearer tokens."""
    throttle = WrongTokenThrottle()
    if throttle.allow_request(request, None):
        return None
    wait = max(1, round(throttle.wait() or 0))
    response = render(request, "429.html", {"retry_after": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


class AdminTokenAuthentication(authentication.BaseAuthentication):
    """DRF: `Authorization: Bearer <auth.admin_token>` authenticates as the admin.

    A bearer that is not the admin token is left alone (it may be the read
    key, which `ReadTier` checks); it is not an error here.
    """

    def authenticate(self, request):
        if has_admin_token(request._request):
            return AdminTokenUser(), None
        throttle = WrongTokenThrottle()
        if not throttle.allow_request(request, None):
            raise exceptions.Throttled(throttle.wait())
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="tsundoku"'


class ReadTier(permissions.BasePermission):
    """Default API permission: anyone, unless reads require auth."""

    def has_permission(self, request, view) -> bool:
        if may_read(request._request):
            return True
        raise exceptions.NotAuthenticated(
            "This tsundoku requires an API key (X-API-Key) or a login to read."
        )


class IsAdmin(permissions.BasePermission):
    """Admin-only endpoints. 401 for everyone else; 503 when the token route is unset."""

    def has_permission(self, request, view) -> bool:
        if is_admin(request._request) or request.user.is_staff:
            return True
        if _bearer_token(request._request) and not settings.TSUNDOKU.auth["admin_token"]:
            from tsundoku.api.errors import Misconfigured

            raise Misconfigured(
                "Admin API access by token needs auth.admin_token to be configured."
            )
        raise exceptions.NotAuthenticated("Admin credentials required.")
