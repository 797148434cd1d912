"""Revocation across processes: with `phananh serve --workers 2`, an account's old access token is
refused by both workers within 5 seconds of its revocation through either of them, on resident
endpoints and on the fast path of `POST /v1/reports` alike.

The real command in a subprocess against a database of the test's own; each test request goes over
a keep-alive connection whose worker is known (read from /proc), so both workers are asked.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.core.db import make_engine
from api.core.embedded_pg import free_port
from api.core.settings import Settings
from tests.factories import any_category, centre, make_city, staff
from tests.run.test_serve import _socket_inodes, children, serve, wait_workers
from tests.support.sockets import tcp_inode_to

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and SO_REUSEPORT are Linux's"),
]

SECRET = Settings(jwt_secret="serve-test-" + "x" * 32)  # the secret tests/run/test_serve.py serves with
WITHIN_S = 5.0


@pytest.fixture
def workers(fresh_db: str, tmp_path: Path) -> Iterator[dict[int, http.client.HTTPConnection]]:
    """The server's two workers, each with a keep-alive connection to it: {pid: connection}."""
    port, log = free_port(), tmp_path / "serve.log"
    proc = serve(fresh_db, port, log)
    pinned: dict[int, http.client.HTTPConnection] = {}
    spare: list[http.client.HTTPConnection] = []
    try:
        pids = wait_workers(proc, port, 2, log)
        for _ in range(64):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            status, _ = call(conn, "GET", "/health")
            assert status == 200
            inode = tcp_inode_to(port, conn.sock.getsockname()[1])
            pid = next(p for p in pids if inode in _socket_inodes(p))
            if pid in pinned:
                spare.append(conn)
            else:
                pinned[pid] = conn
            if len(pinned) == 2:
                break
        assert len(pinned) == 2, "no connection reached one of the workers"
        yield pinned
    finally:
        for conn in [*pinned.values(), *spare]:
            conn.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in children(proc.pid):
            os.kill(pid, signal.SIGKILL)


def call(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else None


def refused(answer: tuple[int, Any]) -> bool:
    """Refused at the door (the token), not by the handler (which may also say 401 for an erased account)."""
    status, body = answer
    return status == 401 and body["error"]["code"] == "invalid_token"


def until_refused(conns: dict[int, http.client.HTTPConnection], asks: dict[str, Any], since: float) -> dict:
    """Seconds from `since` until each (worker, ask) refused the token; fails after WITHIN_S."""
    delays: dict[tuple[int, str], float] = {}
    while len(delays) < len(conns) * len(asks):
        for pid, conn in conns.items():
            for name, ask in asks.items():
                if (pid, name) not in delays and refused(ask(conn)):
                    delays[(pid, name)] = time.monotonic() - since
        assert time.monotonic() - since < WITHIN_S, f"still accepted after {WITHIN_S} s: {delays}"
        time.sleep(0.005)
    return delays


async def test_an_erased_residents_and_a_disabled_officers_tokens_die_in_every_worker(
    fresh_db: str, workers: dict[int, http.client.HTTPConnection]
) -> None:
    engine = make_engine(fresh_db, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as db:
            await make_city(db)
            category = await any_category(db)
            _, admin = await staff(db, "admin", settings=SECRET)
            officer_id, officer = await staff(db, "officer", ["W1"], settings=SECRET)
    finally:
        await engine.dispose()
    (a, conn_a), (b, conn_b) = workers.items()
    lat, lng = centre("W1")

    # --- a resident ---
    device = {"device_id": f"android-{uuid.uuid4().hex[:12]}", "device_secret": secrets.token_urlsafe(32)}
    status, tokens = call(conn_a, "POST", "/v1/auth/device", {**device, "platform": "android"})
    assert status == 200, tokens
    token = tokens["access_token"]

    def report(conn: http.client.HTTPConnection) -> tuple[int, Any]:
        body = {"category": category, "description": f"Ổ gà {uuid.uuid4().hex}", "lat": lat, "lng": lng}
        return call(conn, "POST", "/v1/reports", body, token)

    asks = {
        "GET /v1/me": lambda c: call(c, "GET", "/v1/me", token=token),
        "GET /v1/me/reports": lambda c: call(c, "GET", "/v1/me/reports", token=token),
        "GET /v1/me/notifications": lambda c: call(c, "GET", "/v1/me/notifications", token=token),
        "POST /v1/reports": report,
    }
    for conn in (conn_a, conn_b):
        assert report(conn)[0] == 201
        for name, ask in asks.items():
            assert not refused(ask(conn)), name
    since = time.monotonic()
    assert call(conn_a, "DELETE", "/v1/me", token=token)[0] == 204
    delays = until_refused({a: conn_a, b: conn_b}, asks, since)
    resident_delay = max(delays[(b, name)] for name in asks)

    # --- an officer, disabled by an admin ---
    officer_token = officer["Authorization"].removeprefix("Bearer ")
    queue = {"GET /v1/officer/queue": lambda c: call(c, "GET", "/v1/officer/queue", token=officer_token)}
    for conn in (conn_a, conn_b):
        assert call(conn, "GET", "/v1/officer/queue", token=officer_token)[0] == 200
    admin_token = admin["Authorization"].removeprefix("Bearer ")
    since = time.monotonic()
    status, _ = call(conn_a, "PATCH", f"/v1/admin/users/{officer_id}", {"disabled": True}, admin_token)
    assert status == 200
    staff_delays = until_refused({a: conn_a, b: conn_b}, queue, since)

    # upper bounds: each includes the revoking request and a round of polls of every endpoint
    print(
        f"\nrevocation refused by the other worker within {resident_delay * 1000:.0f} ms (resident, "
        f"slowest endpoint), {staff_delays[(b, 'GET /v1/officer/queue')] * 1000:.0f} ms (officer); "
        f"by the revoking worker within {max(delays[(a, n)] for n in asks) * 1000:.0f} ms"
    )
