"""Ward-lookup benchmark on the national boundaries (`vn_wards_2025_full`).

    uv run python -m bench.lookup [--quick] [--database-url URL] [--api-workers 2] [--lookup-connections 2]
                                  [--seconds 10] [--unsafe]

Measures, over the same varied points (one random point inside every ward):
  (a) the API end to end over HTTP (`phananh serve --workers N` in its own processes), driven by `wrk`
      (Debian package; installed when missing and root) with a Lua script cycling through the points,
      or by a lean raw-socket asyncio client when wrk is absent;
  (b) the same lookup as one SQL statement over raw asyncpg (the ceiling);
  (c) an in-memory shapely STRtree over the same polygons (the in-process limit).
(a) and (b) run at the same numbers of concurrent clients (1 and 32) with the same connections: (b)
gets what the API processes hold for lookups (workers × lookup connections), its clients taking turns
on them as requests do. Which side runs first alternates per level, so neither always meets the warmer
machine. Printed per level: lookups/s, p50/p99 and (a)/(b).

The database: `--database-url` (imported there when it holds no areas), else TEST_DATABASE_URL's server
or a throwaway cluster, with a fresh migrated database. The throwaway cluster keeps PostgreSQL's
durable defaults (`--unsafe`: fsync, synchronous_commit and full_page_writes off); the printout says
what the server ran with. `--quick` uses the HCMC set and short runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import shapely
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.core import migrate
from api.core.db import make_engine, plain_url
from api.core.embedded_pg import Cluster, free_port, port_open
from geo import assign_params
from geo.importer import ImportOptions, import_file
from geo.sql import ASSIGN
from tests.support.database import create_database, drop_database, unique_name
from tests.support.sockets import LISTEN, tcp_inodes

ROOT = Path(__file__).resolve().parents[1]
WARDS = ROOT.parent / "shared" / "data" / "wards"
LEVELS = (1, 32)  # concurrent clients, the same on both sides
KW = {"snap_distance_m": 200.0, "near_boundary_m": 15.0}


class Figures:
    def __init__(self, name: str, count: int, seconds: float, latencies_ms: list[float] | None) -> None:
        self.name, self.count, self.seconds = name, count, seconds
        self.rate = count / seconds if seconds else 0.0
        lat = sorted(latencies_ms or [])
        self.p50 = statistics.median(lat) if lat else float("nan")
        self.p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")

    def line(self) -> str:
        return (
            f"{self.name:<34} {self.rate:>9.0f} lookups/s   p50 {self.p50:>7.2f} ms   p99 {self.p99:>7.2f} ms"
        )


# ---------------------------------------------------------------- database and points


@contextmanager
def server(unsafe: bool) -> Iterator[str]:
    """An admin URL: TEST_DATABASE_URL's server as it is configured, else a throwaway cluster with
    PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes on), or with all three
    off under `--unsafe`. (tests.support's cluster turns them off: fine for tests, flattering here.)"""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        if unsafe:
            sys.exit("--unsafe applies to the throwaway cluster, not to TEST_DATABASE_URL's server")
        yield make_url(url).set(database="postgres").render_as_string(hide_password=False)
        return
    root = Path(tempfile.mkdtemp(prefix="phananh-benchpg-"))
    cluster = Cluster(root, free_port())
    try:
        cluster.start(fast_unsafe=unsafe)
        yield cluster.admin_url()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@asynccontextmanager
async def database(args: argparse.Namespace, data: Path) -> AsyncIterator[str]:
    if args.database_url:
        if args.unsafe:
            sys.exit("--unsafe applies to the throwaway cluster, not to --database-url")
        await prepare(args.database_url, data)
        yield args.database_url
        return
    with server(args.unsafe) as admin:
        name = unique_name("phananh_bench")
        url = await create_database(admin, name)
        try:
            await prepare(url, data)
            yield url
        finally:
            await drop_database(admin, name)


async def durability(url: str) -> str:
    """What the server really runs with (whoever started it), for the printed results."""
    local = make_url(url).host in (None, "", "localhost", "127.0.0.1", "::1")
    conn = await asyncpg.connect(plain_url(url))
    try:
        got = {
            k: await conn.fetchval(f"SHOW {k}") for k in ("fsync", "synchronous_commit", "full_page_writes")
        }
        fs = None
        if local:
            with contextlib.suppress(asyncpg.PostgresError):  # not allowed to read it
                fs = filesystem(Path(await conn.fetchval("SHOW data_directory")))
    finally:
        await conn.close()
    safe = got["fsync"] == "on" and got["synchronous_commit"] != "off" and got["full_page_writes"] == "on"
    settings = ", ".join(f"{k}={v}" for k, v in got.items())
    if safe and fs == "tmpfs":
        return f"NOT durable: data on tmpfs ({settings}; set TMPDIR to a disk)"
    return f"{'durable' if safe else 'UNSAFE (not durable)'}: {settings}" + (f", data on {fs}" if fs else "")


def filesystem(path: Path) -> str | None:
    """The type of the filesystem holding `path` (Linux), when it is on this machine."""
    best, kind = "", None
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                mount = left.split()[4]
                if (str(path) + "/").startswith(mount.rstrip("/") + "/") and len(mount) >= len(best):
                    best, kind = mount, right.split()[0]
    except OSError:
        return None
    return kind if path.exists() else None


async def prepare(url: str, data: Path) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            have = (await conn.execute(text("SELECT count(*) FROM areas WHERE is_leaf"))).scalar_one()
            if have == 0:
                t0 = time.perf_counter()
                opts = ImportOptions(parent_code_field="provinceCode", parent_name_field="provinceName")
                result = await import_file(conn, data, opts)
                print(f"imported {data.name}: {result.features} wards in {time.perf_counter() - t0:.1f} s")
    finally:
        await engine.dispose()
    # settle the fresh rows (hint bits, statistics) now, not under the first measured run
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute("VACUUM (ANALYZE) areas, area_parts")
    finally:
        await conn.close()


async def load(url: str, per_ward: int = 1) -> tuple[list[tuple[float, float]], list[tuple[str, bytes]]]:
    """`per_ward` seeded random points inside every ward (lat, lng), and every ward's boundary as WKB."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        pts = await conn.fetch(
            "SELECT ST_Y(p) AS lat, ST_X(p) AS lng FROM (SELECT code, (ST_Dump(ST_GeneratePoints(geom, $1, 42))).geom AS p"
            " FROM areas WHERE is_leaf AND geom IS NOT NULL) x ORDER BY md5(code)",
            per_ward,
        )
        polys = await conn.fetch(
            "SELECT code, ST_AsBinary(geom) AS wkb FROM areas WHERE is_leaf AND geom IS NOT NULL"
        )
    finally:
        await conn.close()
    return [(r["lat"], r["lng"]) for r in pts], [(r["code"], r["wkb"]) for r in polys]


# ---------------------------------------------------------------- (b) raw SQL


async def sql_run(
    url: str, points: list[tuple[float, float]], clients: int, connections: int, seconds: float
) -> Figures:
    """`clients` loops over `connections` connections, taking turns in arrival order as requests do
    for the API's lookup connections (a queue that lets a returning client barge would flatter p50
    and inflate p99); a latency includes that wait."""
    conns = [await asyncpg.connect(plain_url(url)) for _ in range(connections)]
    turns, free = asyncio.Semaphore(connections), list(conns)  # asyncio.Semaphore serves in order
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        k = i
        while time.perf_counter() < deadline:
            lat, lng = points[k % len(points)]
            k += clients
            t = time.perf_counter()
            async with turns:
                conn = free.pop()
                try:
                    await ASSIGN.fetchrow(
                        conn, assign_params(lat, lng, KW["snap_distance_m"], KW["near_boundary_m"])
                    )
                finally:
                    free.append(conn)
            latencies.append((time.perf_counter() - t) * 1000)

    try:
        for c in conns:  # warm up: prepare the statement
            await ASSIGN.fetchrow(c, assign_params(*points[0], KW["snap_distance_m"], KW["near_boundary_m"]))
        t0 = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    finally:
        for c in conns:
            await c.close()
    return Figures(f"(b) SQL, {clients} client(s), {connections} conn", len(latencies), elapsed, latencies)


# ---------------------------------------------------------------- (c) STRtree


def strtree_run(points: list[tuple[float, float]], polys: list[tuple[str, bytes]], seconds: float) -> Figures:
    codes = [c for c, _ in polys]
    geoms = shapely.from_wkb([w for _, w in polys])
    shapely.prepare(geoms)
    tree = shapely.STRtree(geoms)
    pts = shapely.points([(lng, lat) for lat, lng in points])
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    t0 = time.perf_counter()
    k = 0
    while time.perf_counter() < deadline:
        t = time.perf_counter_ns()
        hits = tree.query(pts[k % len(pts)], predicate="intersects")
        _ = min(codes[i] for i in hits) if len(hits) else None
        latencies.append((time.perf_counter_ns() - t) / 1e6)
        k += 1
    return Figures("(c) shapely STRtree, in process", k, time.perf_counter() - t0, latencies)


# ---------------------------------------------------------------- (a) the API over HTTP


@asynccontextmanager
async def api_server(url: str, workers: int, connections: int) -> AsyncIterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "PHANANH_DATABASE_URL": url,
        "PHANANH_JWT_SECRET": "bench-" + "x" * 40,
        "PHANANH_LOG_LEVEL": "warning",
        "PHANANH_SERVE_WORKER": "false",
        "PHANANH_ACCESS_LOG": "false",
        "PHANANH_LOOKUP_CONNECTIONS": str(connections),  # per API process
    }
    proc = subprocess.Popen(  # noqa: ASYNC220  (a long-lived server, started once)
        [
            sys.executable,
            "-m",
            "api.run.cli",
            "serve",
            "--no-worker",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            if port_open(port) and len(tcp_inodes(port, LISTEN)) >= workers:  # one per worker
                break
            if proc.poll() is not None:
                raise RuntimeError("the API server exited")
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # first requests, connections opening
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def find_wrk() -> str | None:
    found = shutil.which("wrk")
    if found or os.geteuid() != 0:
        return found
    print("installing wrk (apt)…", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    return shutil.which("wrk")


_LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%.3f %%.3f\\n", summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def paths(points: list[tuple[float, float]]) -> list[str]:
    return [f"/v1/areas/lookup?lat={lat:.6f}&lng={lng:.6f}" for lat, lng in points]


async def wrk_run(
    wrk: str, port: int, points: list[tuple[float, float]], clients: int, seconds: float
) -> Figures:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_LUA % ",".join(f'"{p}"' for p in paths(points)))
        script = f.name
    try:
        out = subprocess.run(  # noqa: ASYNC221  (nothing else runs meanwhile)
            [wrk, "-t1", f"-c{clients}", f"-d{seconds:.0f}s", "-s", script, f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    m = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)", out)
    if not m:
        raise RuntimeError(f"wrk said: {out}")
    requests, errors, micros, p50, p99 = int(m[1]), int(m[2]), int(m[3]), float(m[4]), float(m[5])
    if errors:
        print(f"  warning: {errors} errors from wrk")
    fig = Figures(f"(a) API over HTTP, {clients} client(s)", requests, micros / 1e6, None)
    fig.p50, fig.p99 = p50, p99
    return fig


async def socket_run(port: int, points: list[tuple[float, float]], clients: int, seconds: float) -> Figures:
    """Fallback load generator: keep-alive HTTP/1.1 over raw sockets, one request in flight per client."""
    reqs = [f"GET {p} HTTP/1.1\r\nHost: bench\r\n\r\n".encode() for p in paths(points)]
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        k = i
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            writer.write(reqs[k % len(reqs)])
            k += clients
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I)[1])  # type: ignore[index]
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - t) * 1000)
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return Figures(
        f"(a) API over HTTP, {clients} client(s)", len(latencies), time.perf_counter() - t0, latencies
    )


# ---------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> None:
    data = (
        Path(args.data)
        if args.data
        else WARDS / ("hcmc_wards_2025_full.geojson.gz" if args.quick else "vn_wards_2025_full.geojson.gz")
    )
    if not data.exists():
        sys.exit(f"boundary data not found: {data}")
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    budget = args.api_workers * args.lookup_connections  # what the API's processes hold for lookups
    async with database(args, data) as url:
        points, polys = await load(url)
        mode = await durability(url)
        print(
            f"{len(polys)} wards, {len(points)} lookup points; {seconds:.0f} s per run; {os.cpu_count()} cores\n"
            f"database: {mode}\n"
            f"connections: API {args.api_workers} processes × {args.lookup_connections} = {budget}; "
            f"SQL min(clients, {budget}); order alternates per level"
        )
        strtree = strtree_run(points, polys, seconds)
        print(strtree.line(), flush=True)
        wrk = find_wrk()
        run: Callable[[int, int], Coroutine[Any, Any, Figures]]
        if wrk:
            run = lambda port, c: wrk_run(wrk, port, points, c, seconds)  # noqa: E731
        else:
            print("(wrk not found: using the asyncio socket client, which shares the CPU)")
            run = lambda port, c: socket_run(port, points, c, seconds)  # noqa: E731
        rows = []
        async with api_server(url, args.api_workers, args.lookup_connections) as port:
            await run(port, 4)  # warm-up: statements prepared, lineage cached in every worker
            for n, clients in enumerate(LEVELS):
                api_first = n % 2 == 0
                got: dict[str, Figures] = {}
                for side in ("api", "sql") if api_first else ("sql", "api"):
                    if side == "api":
                        got[side] = await run(port, clients)
                    else:
                        got[side] = await sql_run(url, points, clients, min(clients, budget), seconds)
                    print(got[side].line(), flush=True)
                rows.append((clients, "API first" if api_first else "SQL first", got["api"], got["sql"]))
        print(f"\n{mode}; (a) API over HTTP, (b) one SQL statement over asyncpg, same connections")
        print("clients  order       (a)/s  p50 ms  p99 ms    (b)/s  p50 ms  p99 ms  (a)/(b)")
        for clients, order, a, b in rows:
            print(
                f"{clients:>7}  {order:<9} {a.rate:>7.0f} {a.p50:>7.2f} {a.p99:>7.2f} "
                f"{b.rate:>8.0f} {b.p50:>7.2f} {b.p99:>7.2f} {a.rate / b.rate:>8.0%}"
            )
        b32 = rows[-1][3]
        print(
            f"(c) STRtree in process {strtree.rate:.0f}/s; (b)/(c) at {LEVELS[-1]} clients "
            f"{b32.rate / strtree.rate:.2f}\n"
            f"targets at {LEVELS[-1]} clients: (a)/(b) ≥ 40%, (a) p99 < 20 ms"
        )


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="HCMC set, 3 s runs")
    p.add_argument("--database-url", default=None, help="use this database (imported when empty)")
    p.add_argument("--data", default=None, help="GeoJSON to import (default: the shared national set)")
    p.add_argument("--api-workers", type=int, default=2, help="API worker processes (default 2)")
    p.add_argument(
        "--lookup-connections", type=int, default=2, help="lookup connections per API process (default 2)"
    )
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument(
        "--unsafe",
        action="store_true",
        help="throwaway cluster without fsync, synchronous_commit, full_page_writes",
    )
    asyncio.run(main(p.parse_args()))


if __name__ == "__main__":
    cli()
