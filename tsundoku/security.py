"""Hardening that spans the whole site: throttles for guessed secrets, and tier-safe caching.

Brute force: DRF's throttle machinery (`SimpleRateThrottle`, the cache-backed
rate limiter DRF already ships) counts wrong admin bearer tokens per client
address (`tsundoku.access.WrongTokenThrottle`, consulted as the token is
checked, before any permission answers 401; for pages, which honour the
admin bearer too, `AccessTierMiddleware` consults the same throttle), and the
login form's POSTs per
address and per account name (here). That
is why not django-axes: its backend needs `request` on every `authenticate()`
call and adds models and a lockout flow, where a per-minute rate is all the
probe asked for. The cache is file-based under the data dir, so every web
worker process shares the counts.

Caching: every page and API answer depends on who asks (the admin sees the
Codex overlay), so each carries `Cache-Control: private` and
`Vary: Authorization, Cookie`; a shared proxy cache can never hand the
admin's page to a reader.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from rest_framework.throttling import SimpleRateThrottle


class _LoginThrottle(SimpleRateThrottle):
    """Login POSTs per minute; `key` picks what is counted (address or account)."""

    scope = "login"

    def __init__(self, key: str) -> None:
        self.key = key
        self.rate = f"{settings.TSUNDOKU.server['login_rate_per_minute']}/min"
        super().__init__()

    def get_rate(self) -> str:
        return self.rate

    def get_cache_key(self, request, view) -> str | None:
        if self.key == "address":
            ident = self.get_ident(request)
        else:
            ident = "user:" + request.POST.get("username", "").strip().lower()[:150]
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ThrottledLoginView(LoginView):
    """Django's login view, refusing (429 + Retry-After) past the per-minute rate.

    Counted per client address and per account name, so neither one address
    guessing many accounts nor many addresses guessing one account get far;
    the right password inside a refused minute is refused too.
    """

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        throttles = [_LoginThrottle("address"), _LoginThrottle("account")]
        # Both are consulted (and counted) every time, not only until one refuses.
        allowed = [throttle.allow_request(request, self) for throttle in throttles]
        if all(allowed):
            return super().post(request, *args, **kwargs)
        wait = max((throttle.wait() or 0) for throttle in throttles)
        form = self.get_form()
        form.errors.clear()
        form.add_error(None, "Too many sign-in attempts. Wait a minute, then try again.")
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(max(1, round(wait)))
        return response


class PrivateResponsesMiddleware:
    """`Cache-Control: private` and `Vary: Authorization, Cookie` on every dynamic answer.

    Answers that declare themselves public (cached cover images, the same
    bytes for everyone) keep their own header.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "public" in response.get("Cache-Control", ""):
            return response
        patch_vary_headers(response, ("Authorization", "Cookie"))
        patch_cache_control(response, private=True)
        return response
