"""`phananh dev` (what `make run` starts): embedded cluster, migrations, demo wards, API — and a clean stop.

Runs the real command in a subprocess with its own data folder and ports, twice: the second run reuses
the cluster the first one created. SIGTERM (docker stop, systemd) and SIGINT (Ctrl-C) must both stop
the embedded PostgreSQL, not leave it running behind — even when Ctrl-C comes again and again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.core.embedded_pg import Cluster, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # not pytest's tmp_path: when we are root the cluster runs as `postgres`, which must reach the folder
    root = Path(tempfile.mkdtemp(prefix="phananh-dev-"))
    yield root
    if postmaster_running(root):  # a failed run must not leave a cluster behind
        Cluster(root / "pg", 0).stop()
    shutil.rmtree(root, ignore_errors=True)


def start_dev(data_dir: Path, port: int, pg_port: int) -> subprocess.Popen[bytes]:
    """`phananh dev` with its log in data_dir/dev.log (a pipe nobody reads would fill up and block it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHANANH_") and k != "TEST_DATABASE_URL"}
    env |= {
        "PHANANH_DATA_DIR": str(data_dir),
        "PHANANH_PORT": str(port),
        "PHANANH_EMBEDDED_PG_PORT": str(pg_port),
    }
    with (data_dir / "dev.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "api.run.cli", "dev"], env=env, stdout=log, stderr=subprocess.STDOUT
        )


def wait_ready(proc: subprocess.Popen[bytes], data_dir: Path, port: int, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (data_dir / "dev.log").read_text(errors="replace")
            raise AssertionError(f"phananh dev exited early:\n{log[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("phananh dev did not become ready")


def postmaster_running(data_dir: Path) -> bool:
    return (data_dir / "pg" / "data" / "postmaster.pid").exists()


def stop(proc: subprocess.Popen[bytes], sig: signal.Signals, *, repeat_every_s: float | None = None) -> int:
    proc.send_signal(sig)
    if repeat_every_s is not None:  # an impatient user pressing Ctrl-C again and again while it stops
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(repeat_every_s)
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_dev_serves_demo_wards_and_stops_its_cluster_on_sigterm_and_ctrl_c(data_dir: Path) -> None:
    port, pg_port = free_port(), free_port()

    first = start_dev(data_dir, port, pg_port)
    wait_ready(first, data_dir, port)
    lookup = httpx.get(f"http://127.0.0.1:{port}/v1/areas/lookup", params={"lat": 10.7769, "lng": 106.7009})
    assert lookup.status_code == 200
    assert lookup.json()["ward"]["name"] == "Sài Gòn"
    assert postmaster_running(data_dir)
    # another terminal, without the port `make run` was given: the command finds the running cluster
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHANANH_") and k != "TEST_DATABASE_URL"}
    env["PHANANH_DATA_DIR"] = str(data_dir)
    argv = ["users", "create", "--username", "lan", "--password", "lan passphrase", "--role", "officer"]
    created = subprocess.run(
        [sys.executable, "-m", "api.run.cli", *argv, "--area", "26743"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    refused = subprocess.run(
        [sys.executable, "-m", "api.run.cli", *argv, "--area", "26734"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    log = (data_dir / "dev.log").read_text(errors="replace")
    assert log.count("demo admin: username demo-admin, password ") == 1, log
    assert "push not configured" in log
    stop(first, signal.SIGTERM)
    assert not postmaster_running(data_dir), "SIGTERM left the embedded PostgreSQL running"

    second = start_dev(data_dir, port, pg_port)  # running it twice works: same cluster, same data
    wait_ready(second, data_dir, port)
    assert httpx.get(f"http://127.0.0.1:{port}/v1/areas", timeout=5).status_code == 200
    log = (data_dir / "dev.log").read_text(errors="replace")
    assert log.count("demo admin: username demo-admin, password ") == 1, "the password is shown once only"
    stop(second, signal.SIGINT, repeat_every_s=0.05)
    assert not postmaster_running(data_dir), "repeated Ctrl-C left the embedded PostgreSQL running"
