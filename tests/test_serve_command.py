"""`manage.py serve` (issue 11): gunicorn and the worker run as one service and stop as one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_through_gunicorn_and_sigterm_stops_web_and_worker(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSUNDOKU_")}
    env.pop("DATABASE_URL", None)
    env.update(
        TSUNDOKU_CONFIG=str(REPO / "tests" / "tsundoku.test.toml"),
        TSUNDOKU_ENV_FILE=os.devnull,
        TSUNDOKU_STORAGE__DATA_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in serve.stdout:
            lines.append(line)
            if "Booting worker" in line:  # gunicorn's own line: a worker is accepting
                break
        else:
            pytest.fail("gunicorn never booted:\n" + "".join(lines[-30:]))
        assert any("tsundoku serving on" in line for line in lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=30) as r:
            assert r.status == 200
            assert r.headers["Server"].startswith("gunicorn")

        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # gunicorn let go of it
