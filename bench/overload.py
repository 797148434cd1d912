"""Overload benchmark: ward lookups and report submissions at 32 clients, alone and beside each of
three kinds of trouble, in one run.

    uv run python -m bench.overload [--quick] [--seconds 8] [--export-rows 100000]

A fresh migrated database (TEST_DATABASE_URL's server, or a throwaway cluster) holds the synthetic
city (W1..W3 under T1), `--export-rows` reports and one officer with a password. The API is its own
process (`phananh serve --no-worker`, one worker process: the fast paths, the guarded protocol); the
clients speak keep-alive HTTP/1.1 on raw sockets, one request in flight each: 16 loop on
GET /v1/areas/lookup and 16 on POST /v1/reports (each its own device, a fresh Idempotency-Key).

Each phase runs `--seconds` with the same 32 clients:
- unloaded;
- (a) beside 40 more clients signing in with a wrong password as fast as they are answered (the
  address limit raised out of the way, so that every attempt costs an argon2 hash or a 503);
- (b) while another session holds an ACCESS EXCLUSIVE lock on `reports` (submissions meet it);
- (c) while a leader streams the CSV export of every report, over and over.
Printed per phase: lookups/s, lookup p50/p99 and the p99's ratio to the unloaded one (the target is at
most 3×), submissions answered per second by status, their p50/p99, and what the trouble's own
requests were answered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import text

from api.access.tokens import Principal, encode_access
from api.core.db import make_engine, plain_url
from api.core.embedded_pg import free_port, port_open
from api.staff.passwords import hash_password
from bench.export import seed
from tests.factories import centre
from tests.support.database import create_database, drop_database, server_url, unique_name

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + "x" * 32
LOOKUP_CLIENTS = SUBMIT_CLIENTS = 16
SIGN_IN_CLIENTS = 40


class Phase:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lookups: list[float] = []
        self.submits: list[float] = []
        self.lookup_status: Counter[int] = Counter()
        self.submit_status: Counter[int] = Counter()
        self.side_status: Counter[int] = Counter()
        self.seconds = 0.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One request on a kept-alive connection; its status (the body is read and dropped)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    found = re.search(rb"content-length: (\d+)", head, re.I)
    if found is not None:
        await reader.readexactly(int(found[1]))
    return int(head[9:12])


async def loop_requests(
    port: int, make: Callable[[int], bytes], until: float, latencies: list[float], statuses: Counter[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    k = 0
    try:
        while time.perf_counter() < until:
            t = time.perf_counter()
            status = await exchange(reader, writer, make(k))
            latencies.append((time.perf_counter() - t) * 1000)
            statuses[status] += 1
            k += 1
            if status in (429, 503):
                await asyncio.sleep(0.05)  # a well-behaved client backs off a little
    finally:
        writer.close()


def lookup_request(k: int) -> bytes:
    lat, lng = centre(("W1", "W2", "W3")[k % 3])
    return f"GET /v1/areas/lookup?lat={lat:.6f}&lng={lng:.6f} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def submit_request(token: str) -> Callable[[int], bytes]:
    def make(k: int) -> bytes:
        lat, lng = centre(("W1", "W2", "W3")[k % 3])
        body = (
            f'{{"category":"ngap-nuoc","description":"Đường ngập sâu {k}","lat":{lat:.6f},"lng":{lng:.6f}}}'
        ).encode()
        head = (
            f"POST /v1/reports HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        return head + body

    return make


def sign_in_request(_: int) -> bytes:
    body = b'{"username":"bench-officer","password":"not-the-password-at-all"}'
    return (
        b"POST /v1/auth/login HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


async def run_phase(
    port: int,
    tokens: list[str],
    phase: Phase,
    seconds: float,
    trouble: Callable[[float], Awaitable[None]] | None,
) -> Phase:
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    tasks: list[Awaitable[None]] = [
        *(
            loop_requests(port, lookup_request, until, phase.lookups, phase.lookup_status)
            for _ in range(LOOKUP_CLIENTS)
        ),
        *(
            loop_requests(port, submit_request(tokens[i]), until, phase.submits, phase.submit_status)
            for i in range(SUBMIT_CLIENTS)
        ),
    ]
    if trouble is not None:
        tasks.append(trouble(until))
    await asyncio.gather(*tasks)
    phase.seconds = time.perf_counter() - started
    return phase


def sign_in_flood(port: int, phase: Phase) -> Callable[[float], Awaitable[None]]:
    async def flood(until: float) -> None:
        await asyncio.gather(
            *(
                loop_requests(port, sign_in_request, until, [], phase.side_status)
                for _ in range(SIGN_IN_CLIENTS)
            )
        )

    return flood


def lock_held(url: str, phase: Phase) -> Callable[[float], Awaitable[None]]:
    async def hold(until: float) -> None:
        conn = await asyncpg.connect(plain_url(url))
        try:
            async with conn.transaction():
                await conn.execute("LOCK TABLE reports IN ACCESS EXCLUSIVE MODE")
                phase.side_status[0] += 1  # held
                await asyncio.sleep(max(0.0, until - time.perf_counter()))
        finally:
            await conn.close()

    return hold


def exporting(port: int, leader: uuid.UUID, phase: Phase) -> Callable[[float], Awaitable[None]]:
    headers = {"Authorization": f"Bearer {encode_access(Principal(leader, 'leader'), SECRET, 3600)}"}

    async def export(until: float) -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            while time.perf_counter() < until:
                async with client.stream("GET", "/v1/export.csv", headers=headers) as r:
                    phase.side_status[r.status_code] += 1
                    async for _ in r.aiter_bytes():
                        pass

    return export


@asynccontextmanager
async def api(url: str, data_dir: str) -> AsyncIterator[int]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PHANANH_")},
        "PHANANH_DATABASE_URL": url,
        "PHANANH_JWT_SECRET": SECRET,
        "PHANANH_DATA_DIR": data_dir,
        "PHANANH_LOG_LEVEL": "ERROR",
        "PHANANH_ACCESS_LOG": "false",
        # the limits out of the way: the benchmark measures the load, not the 429s
        "PHANANH_LOGIN_RATE_PER_IP_MINUTE": "1000000",
        "PHANANH_REPORT_RATE_PER_DEVICE_HOUR": "1000000",
        "PHANANH_REPORT_RATE_PER_IP_HOUR": "1000000",
        "PHANANH_REGISTER_RATE_PER_IP_MINUTE": "1000000",
    }
    proc = subprocess.Popen(  # noqa: ASYNC220  (a long-lived server, started once)
        [sys.executable, "-m", "api.run.cli", "serve", "--no-worker", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            if port_open(port):
                break
            if proc.poll() is not None:
                raise RuntimeError("the API server exited")
            await asyncio.sleep(0.1)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


async def add_officer(url: str) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, role, username, password_hash) "
                    "VALUES (:id, 'officer', 'bench-officer', :hash)"
                ),
                {"id": uuid.uuid4(), "hash": hash_password("the-real-password-123")},
            )
    finally:
        await engine.dispose()


async def register(port: int, n: int) -> list[str]:
    tokens = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for i in range(n):
            r = await client.post(
                "/v1/auth/device",
                json={"device_id": f"bench-ov-{i:04d}", "device_secret": "s" * 40, "platform": "android"},
            )
            r.raise_for_status()
            tokens.append(r.json()["access_token"])
    return tokens


def describe(status: Counter[int], seconds: float) -> str:
    return " ".join(f"{code}:{n / seconds:.0f}/s" for code, n in sorted(status.items()))


async def main(seconds: float, rows: int) -> None:
    with server_url() as admin, tempfile.TemporaryDirectory() as tmp:
        name = unique_name("phananh_bench_overload")
        url = await create_database(admin, name)
        try:
            t0 = time.perf_counter()
            leader = await seed(url, rows)
            await add_officer(url)
            print(f"seeded {rows} reports in {time.perf_counter() - t0:.1f} s", flush=True)
            async with api(url, tmp) as port:
                tokens = await register(port, SUBMIT_CLIENTS)
                await run_phase(port, tokens, Phase("warm-up"), min(2.0, seconds), None)
                phases = []
                base = await run_phase(port, tokens, Phase("unloaded"), seconds, None)
                phases.append(base)
                a = Phase("(a) 40 clients signing in")
                phases.append(await run_phase(port, tokens, a, seconds, sign_in_flood(port, a)))
                b = Phase("(b) lock held on reports")
                phases.append(await run_phase(port, tokens, b, seconds, lock_held(url, b)))
                c = Phase(f"(c) export of {rows} rows")
                phases.append(await run_phase(port, tokens, c, seconds, exporting(port, leader, c)))
        finally:
            await drop_database(admin, name)
    base_p99 = pct(base.lookups, 0.99)
    print(
        f"\n{LOOKUP_CLIENTS} lookup + {SUBMIT_CLIENTS} submission clients, {seconds:.0f} s a phase, "
        "one API process\n"
    )
    print(
        f"{'phase':<30} {'lookups/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'p99/unl.':>8}   "
        f"{'submit p50':>10} {'p99 ms':>7}   submissions by status; the trouble's answers"
    )
    for ph in phases:
        print(
            f"{ph.name:<30} {len(ph.lookups) / ph.seconds:>9.0f} {pct(ph.lookups, 0.5):>7.1f} "
            f"{pct(ph.lookups, 0.99):>7.1f} {pct(ph.lookups, 0.99) / base_p99:>7.1f}×   "
            f"{pct(ph.submits, 0.5):>10.1f} {pct(ph.submits, 0.99):>7.1f}   "
            f"{describe(ph.submit_status, ph.seconds)}; {describe(ph.side_status, ph.seconds) or '-'}"
        )
        bad = {k: v for k, v in ph.lookup_status.items() if k != 200}
        if bad:
            print(f"{'':<30} lookups not 200: {bad}")
    worst = max(pct(ph.lookups, 0.99) / base_p99 for ph in phases)
    print(
        f"\nworst lookup p99 under load: {worst:.1f}× the unloaded ({'within' if worst <= 3 else 'OVER'} 3×)"
    )
    if statistics.median(base.lookups) <= 0:
        raise SystemExit("no lookups measured")


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--export-rows", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="3 s a phase, 10,000 rows to export")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.export_rows = 3.0, 10_000
    asyncio.run(main(args.seconds, args.export_rows))


if __name__ == "__main__":
    cli()
