"""Keeping Python's cyclic garbage collector off work where it only costs.

Three cases: bulk work that builds no cycles (`collector_paused`), the
objects a web process makes once at start-up (`freeze_start_up_objects`),
and the objects each request makes (`CollectAfterEachRequestMiddleware`).

Reading 100k Codex series builds about a million small objects (dicts from
the JSON, then dataclasses and tuples) that all stay alive until the end.
Each time enough of them pile up, CPython runs a full collection that walks
every live object, Django's included — at 100k series those walks cost a
third of a Codex sweep's time and find nothing: these objects hold no
cycles, so reference counting frees them anyway. Bulk work that knows this
runs under `collector_paused()`; whatever cycles do form meanwhile are
collected once it ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; nests, and works across threads.

    The collector is switched back on (if it was on) when the last block
    still open anywhere in the process ends.
    """
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


def freeze_start_up_objects() -> None:
    """Collect once, then take every object alive now out of later collections.

    A web process imports Django, the apps, the URL patterns and templates
    machinery once, and keeps those few hundred thousand objects until it
    exits. Each full collection walks all of them to find nothing: on the
    bench's 2 cores 60–90 ms, triggered every few dozen feed pages by the
    objects a page makes, which is where the pages' p95 went. `gc.freeze`
    moves them to a generation the collector never scans; what requests
    allocate is collected as each ends (`CollectAfterEachRequestMiddleware`).
    Called by `tsundoku.wsgi` once the application is loaded (each gunicorn
    worker imports it).
    """
    gc.collect()
    gc.freeze()


class CollectAfterEachRequestMiddleware:
    """Pause the collector while a response is built, then collect what the request left.

    Django leaves reference cycles behind on every page: a series and its
    Codex link point at each other once `select_related` has joined them,
    a class-based view holds its own bound `get` (as `head`), and a DRF
    view and its request point at each other. While a page is built, the
    collector's young passes run every few hundred allocations and move the
    page's objects, all still alive, to the older generations; once the page
    is done they are garbage that only a collection of those frees. That came
    every few pages and cost 20–90 ms on the bench's 2 cores: the p95 of the
    Codex-filtered feed. Paused, nothing moves up mid-request, and one young
    collection at its end frees what the page left; the older generations
    are then collected when due, as the collector itself would.

    That collection runs before the collector is back on (once on, its first
    allocation would start a young pass of its own), and after a rendered
    DRF response has let go of what only rendering needed
    (`_release_after_rendering`): otherwise the view and the page's rows are
    still held then, and move up with the response.

    First in `MIDDLEWARE`, around everything else. A streamed body
    (exports) is produced after this returns, with the collector on.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with collector_paused():
            try:
                response = self.get_response(request)
                _release_after_rendering(response)
                return response
            finally:
                gc.collect(0)
                _collect_older_generations_when_due()


def _release_after_rendering(response: HttpResponse) -> None:
    """Drop a rendered DRF response's links to the view and to the serializers.

    Its rendering context holds the view (and, `context["response"] =
    self`, the response itself); `serializer.data` keeps a link back to its
    serializer, and so to the rows it serialized. Both are for renderers
    only. The data itself stays as it is.
    """
    if not getattr(response, "is_rendered", False) or not hasattr(response, "renderer_context"):
        return
    response.renderer_context = None
    data = response.data
    for value in (data, *data.values()) if isinstance(data, dict) else (data,):
        if hasattr(value, "serializer"):  # DRF's ReturnDict / ReturnList
            value.serializer = None


def _collect_older_generations_when_due() -> None:
    """What the collector runs after a young collection when the older generations are due."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    for generation in (2, 1):
        if counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return
