"""Pausing the cyclic garbage collector around bulk work (tsundoku.garbage_collection)."""

from __future__ import annotations

import gc

import pytest

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
