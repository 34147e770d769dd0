"""The collector paused around bulk work, start-up objects frozen (tsundoku.garbage_collection)."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tsundoku.garbage_collection import collector_paused


@pytest.fixture(autouse=True)
def collector_enabled():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after():
    with collector_paused():
        assert not gc.isenabled()

    assert gc.isenabled()


def test_nested_pauses_switch_it_back_on_only_when_the_outermost_ends():
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()

    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()

    with collector_paused():
        pass

    assert not gc.isenabled()


def test_an_error_inside_still_switches_it_back_on():
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")

    assert gc.isenabled()


def test_a_web_process_freezes_what_start_up_made_and_keeps_collecting():
    # In a process of its own: freezing this one would change every later test's collections.
    probe = "import gc, tsundoku.wsgi; print(gc.get_freeze_count(), gc.isenabled())"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    frozen, enabled = result.stdout.split()
    assert int(frozen) > 10_000  # Django and the apps, loaded
    assert enabled == "True"


class _Node:
    """Something a weak reference can watch."""


_SEEN: dict = {}


def _probe(request):
    """A view that notes whether the collector runs, and leaves a reference cycle behind."""
    node = _Node()
    node.itself = node
    _SEEN.update(collector_on=gc.isenabled(), cycle=weakref.ref(node))
    return HttpResponse("ok")


class _RowSerializer(serializers.Serializer):
    name = serializers.CharField()


class _RowsView(APIView):
    """A DRF page of rows that, like a series and its Codex link, each sit in a cycle."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def get(self, request):
        rows = [_Node(), _Node()]
        for name, row in zip("ab", rows, strict=True):
            row.name, row.itself = name, row
        _SEEN["row"] = weakref.ref(rows[0])
        return Response({"items": _RowSerializer(rows, many=True).data, "total": 2})


urlpatterns = [path("probe", _probe), path("rows", _RowsView.as_view())]


@override_settings(ROOT_URLCONF=__name__)
def test_a_request_runs_with_the_collector_paused_and_its_cycles_are_freed_as_it_ends(client):
    _SEEN.clear()

    response = client.get("/probe")

    assert response.status_code == 200
    assert _SEEN["collector_on"] is False
    assert gc.isenabled()
    # Freed by the young collection right after the request, not left for a full one.
    assert _SEEN["cycle"]() is None


@override_settings(ROOT_URLCONF=__name__)
def test_a_request_s_cycles_are_freed_even_while_something_else_keeps_the_collector_paused(
    client,
):
    _SEEN.clear()

    with collector_paused():  # another thread's request, say
        client.get("/probe")
        freed = _SEEN["cycle"]() is None

    assert freed


@override_settings(ROOT_URLCONF=__name__)
def test_while_something_else_keeps_the_collector_paused_older_garbage_is_still_collected(client):
    survivor = _Node()
    survivor.itself = survivor
    cycle = weakref.ref(survivor)

    with collector_paused():  # requests on other threads, say, one after another
        gc.collect(0)  # the cycle, still alive, moves up to the middle generation
        del survivor
        for _ in range(gc.get_threshold()[1] + 1):  # enough young collections to make it due
            client.get("/probe")
        freed = cycle() is None

    assert freed


@override_settings(ROOT_URLCONF=__name__)
def test_an_api_page_s_rows_are_freed_by_the_request_s_own_collection(client):
    _SEEN.clear()

    with collector_paused():  # so no other collection can be what frees them
        response = client.get("/rows")
        freed = _SEEN["row"]() is None

    assert freed
    # What the client reads is untouched.
    assert response.json() == {"items": [{"name": "a"}, {"name": "b"}], "total": 2}
    assert response.data["items"] == [{"name": "a"}, {"name": "b"}]
