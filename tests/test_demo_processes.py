"""`make run`'s demo (issue 11): Ctrl-C leaves no process behind; a busy port stops it first.

Runs `manage.py demo` for real in a child process with its own data dir and
free ports, waits for its ready line (a blocking read, no sleeping), collects
its whole process tree from /proc, sends SIGINT as a terminal's Ctrl-C would,
and checks every one of those processes is gone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list the process tree"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSUNDOKU_")}
    env.pop("DATABASE_URL", None)
    env.update(
        TSUNDOKU_CONFIG=str(REPO / "fixtures" / "demo.toml"),
        TSUNDOKU_ENV_FILE=os.devnull,
        TSUNDOKU_STORAGE__DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = set(), [root]
    while queue:
        for child in children.get(queue.pop(), []):
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ctrl_c_stops_every_demo_process(tmp_path):
    port, codex_port = free_port(), free_port()
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", str(port), "--codex-port", str(codex_port)],
        cwd=REPO,
        env=demo_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen = []
        for line in demo.stdout:
            seen.append(line)
            if "Ctrl-C stops everything" in line:
                break
        else:
            pytest.fail("the demo never got ready:\n" + "".join(seen[-30:]))
        tree = descendants(demo.pid)
        # The simulator, the worker (and its own processes) and the web server.
        assert len(tree) >= 3, tree

        demo.send_signal(signal.SIGINT)
        demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()

    assert [pid for pid in tree if alive(pid)] == []
    for taken in (port, codex_port):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", taken))  # nothing listens there any more


def test_a_busy_port_is_one_clear_error_before_anything_starts(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "manage.py", "demo", "--port", str(busy)],
            cwd=REPO,
            env=demo_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert result.returncode != 0
    assert f"port {busy} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    # Nothing started: no database was even created.
    assert not (tmp_path / "tsundoku.sqlite3").exists()
