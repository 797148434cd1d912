"""`phananh serve --workers N`: every worker takes its share of the connections, a worker that dies
is replaced, SIGTERM stops them all, and a port already in use is refused with a clear message.

The real command in a subprocess against a database of the test's own. Which worker holds a
connection is read from /proc (the socket inodes each worker process has open).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.core.embedded_pg import free_port
from tests.support.sockets import ESTABLISHED, LISTEN, tcp_inodes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balancing is Linux's"),
]


def serve(url: str, port: int, log: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHANANH_")}
    env |= {
        "PHANANH_DATABASE_URL": url,
        "PHANANH_JWT_SECRET": "serve-test-" + "x" * 32,
        "PHANANH_ACCESS_LOG": "false",
    }
    args = ["serve", "--no-worker", "--workers", str(workers), "--port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "api.run.cli", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def wait_workers(proc: subprocess.Popen[bytes], port: int, count: int, log: Path) -> set[int]:
    """The worker pids once `count` of them answer on `port`."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early:\n{log.read_text(errors='replace')[-3000:]}")
        workers = children(proc.pid) - {proc.pid}
        listening = {pid for pid in workers if _socket_inodes(pid) & tcp_inodes(port, LISTEN)}
        if len(listening) == count:
            return listening
        time.sleep(0.2)
    raise AssertionError(f"{count} workers did not start:\n{log.read_text(errors='replace')[-3000:]}")


def _socket_inodes(pid: int) -> set[int]:
    found = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                found.add(int(target[8:-1]))
    except OSError:
        pass
    return found


@pytest.fixture
def server(fresh_db: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port, log = free_port(), tmp_path / "serve.log"
    proc = serve(fresh_db, port, log)
    try:
        yield proc, port, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in children(proc.pid):
            os.kill(pid, signal.SIGKILL)


def keep_alive(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    return sock


def test_workers_share_connections_are_replaced_and_stop_together(
    server: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    proc, port, log = server
    workers = wait_workers(proc, port, 2, log)

    # 64 keep-alive connections opened at once. One shared accept queue handed 25–32 of 32 to one
    # worker in bench/submit.py; per-worker SO_REUSEPORT sockets split them by address hash, and
    # fewer than 16 of 64 on either side has a probability of about 1e-4.
    conns = [keep_alive(port) for _ in range(64)]
    established = tcp_inodes(port, ESTABLISHED)
    share = {pid: len(_socket_inodes(pid) & established) for pid in workers}
    assert sum(share.values()) == 64, share
    assert min(share.values()) >= 16, f"connections per worker: {share}"
    for c in conns:
        c.close()

    # a worker that dies is replaced, and the port keeps answering
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _socket_inodes(victim) and time.monotonic() < deadline:  # gone once its sockets are
        time.sleep(0.05)
    replaced = wait_workers(proc, port, 2, log)
    assert victim not in replaced and len(replaced & workers) == 1
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in replaced), "a worker outlived the server"


def test_a_port_in_use_is_refused(fresh_db: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = serve(fresh_db, port, tmp_path / "serve.log")
        assert proc.wait(timeout=60) == 2
    out = (tmp_path / "serve.log").read_text()
    assert f"cannot listen on 127.0.0.1:{port}" in out
