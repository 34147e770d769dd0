"""Serving cached covers from our own origin: `/covers/<key>`.

The view only reads the cache; it never fetches, so no request can make the
server contact a URL. `key` is the SHA-256 of the source URL: a new cover is a
new URL and so a new key, which is why a cached response may be kept for a
year and marked immutable.
"""

from __future__ import annotations

import os

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from covers import storage
from covers.cache import covers_config
from covers.fetch import SNIFF_BYTES, image_type

IMMUTABLE = "public, max-age=31536000, immutable"


@require_safe
def image(request: HttpRequest, key: str) -> HttpResponse:
    """One cached cover with long-lived cache headers; 304 when the browser has it."""
    if not covers_config()["enabled"] or not storage.KEY_PATTERN.match(key):
        raise Http404("No such cover.")
    try:
        handle = storage.image_path(key).open("rb")
    except FileNotFoundError:
        raise Http404("This cover is not cached.") from None
    stat = os.fstat(handle.fileno())
    # The file under a key changes only if it is evicted and fetched again.
    etag = f'"{key[:16]}-{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    last_modified = int(stat.st_mtime)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is not None:
        handle.close()
    else:
        content_type = image_type(handle.read(SNIFF_BYTES))
        if content_type is None:
            handle.close()
            raise Http404("This cover is not cached.")
        handle.seek(0)
        response = FileResponse(handle, content_type=content_type)
    if response.status_code in {200, 304}:
        response["ETag"] = etag
        response["Last-Modified"] = http_date(last_modified)
        response["Cache-Control"] = IMMUTABLE
    response["X-Content-Type-Options"] = "nosniff"
    return response
