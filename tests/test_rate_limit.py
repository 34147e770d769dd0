"""Per-host pacing in the shared HTTP client, and Retry-After honoured, without real sleeping."""

from __future__ import annotations

import itertools
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import responses

from tsundoku.http import HostRateLimiter, build_session


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_requests_to_one_host_start_at_least_the_gap_apart():
    clock = FakeClock()
    limiter = HostRateLimiter(clock=clock.time, sleep=clock.sleep)
    limiter.set_min_gap("api.mangabaka.org", 0.25)

    starts = []
    for _ in range(4):
        limiter.wait("api.mangabaka.org")
        starts.append(clock.now)

    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [0.25] * 3


def test_other_hosts_are_not_paced_and_time_already_passed_counts():
    clock = FakeClock()
    limiter = HostRateLimiter(clock=clock.time, sleep=clock.sleep)
    limiter.set_min_gap("api.mangabaka.org", 1.0)
    limiter.wait("api.mangabaka.org")
    assert limiter.wait("nyaa.si") == 0.0
    clock.now += 0.6
    assert round(limiter.wait("API.MangaBaka.org"), 6) == 0.4
    assert [round(seconds, 6) for seconds in clock.sleeps] == [0.4]


def test_concurrent_callers_each_get_their_own_slot():
    clock = FakeClock()
    waits: list[float] = []
    limiter = HostRateLimiter(clock=clock.time, sleep=lambda seconds: None)
    limiter.set_min_gap("h", 0.5)
    threads = [threading.Thread(target=lambda: waits.append(limiter.wait("h"))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_no_more_than_the_host_concurrency_is_in_flight_at_once():
    limiter = HostRateLimiter(clock=FakeClock().time, sleep=lambda seconds: None)
    limiter.set_max_concurrency("nyaa.si", 2)
    in_flight: list[int] = []
    peak: list[int] = []
    lock = threading.Lock()
    release = threading.Event()
    entered = threading.Semaphore(0)

    def request() -> None:
        with limiter.slot("nyaa.si"):
            with lock:
                in_flight.append(1)
                peak.append(len(in_flight))
            entered.release()
            release.wait(timeout=10)
            with lock:
                in_flight.pop()

    threads = [threading.Thread(target=request) for _ in range(5)]
    for thread in threads:
        thread.start()
    assert entered.acquire(timeout=10) and entered.acquire(timeout=10)
    # Two are inside; the other three block on the semaphore, not on a sleep.
    assert not entered.acquire(timeout=0.05)
    assert len(in_flight) == 2
    release.set()
    for thread in threads:
        thread.join()
    assert max(peak) == 2 and len(peak) == 5


def test_hosts_without_a_concurrency_cap_are_not_held():
    limiter = HostRateLimiter(clock=FakeClock().time, sleep=lambda seconds: None)
    limiter.set_max_concurrency("nyaa.si", 1)
    with limiter.slot("nyaa.si"), limiter.slot("codex.local") as waited:
        assert waited == 0.0
    limiter.set_max_concurrency("nyaa.si", 0)
    with limiter.slot("nyaa.si"), limiter.slot("nyaa.si"):
        assert limiter.max_concurrency("nyaa.si") == 0


@responses.activate
def test_sessions_from_build_session_share_the_limiter_per_host():
    clock = FakeClock()
    limiter = HostRateLimiter(clock=clock.time, sleep=clock.sleep)
    limiter.set_min_gap("paced.test", 2.0)
    responses.get("https://paced.test/a", json={})
    responses.get("https://free.test/b", json={})
    first = build_session(limiter=limiter)
    second = build_session(limiter=limiter)

    first.get("https://paced.test/a", timeout=1)
    second.get("https://paced.test/a", timeout=1)
    second.get("https://free.test/b", timeout=1)

    assert clock.sleeps == [2.0]
    assert len(responses.calls) == 3


class ScriptedHandler(BaseHTTPRequestHandler):
    """Answers each GET with the next (status, headers) of the server's script."""

    def do_GET(self) -> None:
        status, headers = self.server.script.pop(0)
        body = b'{"ok": true}'
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def scripted_server(script):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedHandler)
    server.script = list(script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


def test_retry_after_is_honoured_and_capped_through_the_injected_sleep():
    slept: list[float] = []
    script = [(429, {"Retry-After": "3"}), (429, {"Retry-After": "9999"}), (200, {})]
    with scripted_server(script) as (base_url, server):
        session = build_session(limiter=HostRateLimiter(), sleep=slept.append, retry_after_cap=30)
        response = session.get(f"{base_url}/x", timeout=5)

    assert response.status_code == 200
    assert server.script == []  # all three answers were asked for
    assert slept == [3.0, 30.0]
