"""Map-tile benchmark: the leaders' tiles over a city of reports, through the API and at the ceiling.

    uv run python -m bench.tiles [--quick] [--reports N] [--database-url URL] [--api-workers 2]
                                 [--seconds 6] [--unsafe]

The HCMC ward boundaries (../shared/data/wards) are imported into a fresh database (as bench.lookup
does), then N reports (1,000,000; `--quick` 100,000) are seeded with one INSERT … SELECT: the same
number in every ward at random points inside it (ST_GeneratePoints), so the small inner wards are
the dense ones, with every status and deadlines from long past to days ahead. A leader of the whole
province asks for tiles at zooms 8, 12 and 16, at 1 and 8 concurrent clients:

  (a) the API over HTTP (`phananh serve --workers N`), keep-alive connections over raw sockets;
  (b) the same statements (`api.casework.sql`, with `api.casework.tiles.params`) over raw asyncpg,
      on min(clients, what the API holds) connections (the ceiling).

The tiles asked for are those under randomly drawn reports (where the map has something to show),
the same list in the same order on both sides. Printed per zoom and level: p50/p99, tiles/s, (a)/(b),
the largest tile and the mean, and the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from api.access.tokens import Principal, encode_access
from api.casework import sql, tiles
from api.casework.filters import CaseFilter
from api.core.db import plain_url
from api.core.settings import load_settings
from bench.lookup import WARDS, api_server, database, durability

ZOOMS = (8, 12, 16)
LEVELS = (1, 8)
SECRET = "bench-" + "x" * 40  # bench.lookup.api_server's
TILES_PER_ZOOM = 200
TARGET_RATIO, TARGET_P99_MS, TARGET_MAX_BYTES = 0.80, 50.0, 500_000

SEED = """
INSERT INTO reports (id, code, reporter_id, category_code, description, geom, ward_code, status, visibility,
                     search_text, created_at, updated_at, ack_due_at, resolve_due_at)
SELECT gen_random_uuid(), 'TB-' || lpad(i::text, 8, '0'), $1, cats[1 + i % cardinality(cats)], 'Phản ánh ' || i,
       p, code, (ARRAY['new','acknowledged','in_progress','resolved','closed','rejected','new','in_progress'])[1 + i % 8],
       'public', '', now() - (i % 20000) * interval '3 minutes', now(),
       now() + ((i % 97) - 30) * interval '1 hour', now() + ((i % 89) - 20) * interval '3 hours'
FROM (SELECT row_number() OVER () AS i, code, p
      FROM (SELECT code, (ST_Dump(ST_GeneratePoints(geom, $2, 11))).geom AS p
            FROM areas WHERE is_leaf AND geom IS NOT NULL) pts) x,
     (SELECT array_agg(code ORDER BY code) AS cats FROM categories) c
"""


@dataclass
class Run:
    latencies_ms: list[float]
    seconds: float
    sizes: list[int]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        lat = sorted(self.latencies_ms)
        return lat[min(len(lat) - 1, int(len(lat) * q))] if lat else float("nan")


async def seed(url: str, n: int) -> tuple[uuid.UUID, int]:
    """`n` reports (about; a whole number per ward) and a leader of the province; (leader, reports)."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        wards = await conn.fetchval("SELECT count(*) FROM areas WHERE is_leaf AND geom IS NOT NULL")
        province = await conn.fetchval("SELECT parent_code FROM areas WHERE is_leaf LIMIT 1")
        if await conn.fetchval("SELECT count(*) FROM reports") == 0:
            seeder = uuid.uuid4()
            await conn.execute("INSERT INTO users (id, role) VALUES ($1, 'resident')", seeder)
            t0 = time.perf_counter()
            await conn.execute(SEED, seeder, math.ceil(n / wards))
            print(
                f"seeded {await conn.fetchval('SELECT count(*) FROM reports'):,} reports in {time.perf_counter() - t0:.0f} s"
            )
            # the map's kept counts too, as autovacuum would have by then
            await conn.execute("VACUUM (ANALYZE) reports, report_counts, report_ward_counts")
        leader = uuid.uuid4()
        await conn.execute(
            "INSERT INTO users (id, role, username) VALUES ($1, 'leader', $2)",
            leader,
            f"lead-{leader.hex[:8]}",
        )
        await conn.execute("INSERT INTO user_areas (user_id, area_code) VALUES ($1, $2)", leader, province)
        return leader, int(await conn.fetchval("SELECT count(*) FROM reports"))
    finally:
        await conn.close()


async def tile_list(url: str, z: int) -> list[tuple[int, int, int]]:
    """The tiles under `TILES_PER_ZOOM` reports drawn at random (repeats kept: busy tiles are asked more)."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        rows = await conn.fetch(
            # rows sampled over the whole table (the seed writes ward after ward), in a fixed order
            "SELECT ST_X(geom) AS lng, ST_Y(geom) AS lat FROM reports TABLESAMPLE BERNOULLI (1) REPEATABLE (3)"
            " ORDER BY md5(code) LIMIT $1",
            TILES_PER_ZOOM,
        )
    finally:
        await conn.close()
    n = 2**z
    out = []
    for r in rows:
        lat = math.radians(r["lat"])
        out.append(
            (
                z,
                int((r["lng"] + 180.0) / 360.0 * n),
                int((1.0 - math.asinh(math.tan(lat)) / math.pi) / 2.0 * n),
            )
        )
    random.Random(z).shuffle(out)
    return out


async def http_run(
    port: int, token: str, todo: list[tuple[int, int, int]], clients: int, seconds: float
) -> Run:
    latencies: list[float] = []
    sizes: list[int] = []
    deadline = time.perf_counter() + seconds
    bad = 0

    async def client(i: int) -> None:
        nonlocal bad
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        k = i
        while time.perf_counter() < deadline:
            z, x, y = todo[k % len(todo)]
            k += clients
            t = time.perf_counter()
            writer.write(
                f"GET /v1/tiles/{z}/{x}/{y}.mvt HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            found = re.search(rb"content-length: (\d+)", head, re.I)
            body = await reader.readexactly(int(found[1])) if found else b""
            latencies.append((time.perf_counter() - t) * 1000)
            if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 204")):
                bad += 1
            sizes.append(len(body))
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    if bad:
        print(f"  warning: {bad} answers neither 200 nor 204")
    return Run(latencies, time.perf_counter() - t0, sizes)


def tile_args(leader: uuid.UUID, t: tuple[int, int, int]) -> dict[str, Any]:
    return tiles.params(
        Principal(leader, "leader"), *t, CaseFilter(), now=datetime.now(UTC), due_soon=timedelta(hours=24)
    )


async def sql_run(
    url: str,
    leader: uuid.UUID,
    todo: list[tuple[int, int, int]],
    clients: int,
    connections: int,
    seconds: float,
) -> Run:
    """The API's statements per tile (`api.casework.sql`: single cases from the cluster zoom on, the
    wards' kept counts below it, the grid clusters where a tile holds too many cases, with the planner settings the API gives them, each in
    its transaction) over `connections` asyncpg connections taken in arrival order."""
    args = {t: tile_args(leader, t) for t in set(todo)}
    single, wards, clusters = sql.TILE_SINGLE, tiles.ward_clusters(CaseFilter()), sql.TILE_CLUSTERS
    settings = sql.CLUSTER_SETTINGS.sql
    conns = [await asyncpg.connect(plain_url(url)) for _ in range(connections)]
    turns, free = asyncio.Semaphore(connections), list(conns)
    latencies: list[float] = []
    sizes: list[int] = []
    deadline = time.perf_counter() + seconds

    async def one(conn: asyncpg.Connection, t: tuple[int, int, int]) -> bytes:
        async with conn.transaction():
            if t[0] >= tiles.CLUSTER_BELOW_ZOOM:
                row = await conn.fetchrow(single.sql, *single.args(args[t]))
                if row["cases"] <= tiles.MAX_CASES:
                    return bytes(row["tile"])
            else:  # no filter: the kept counts apply
                row = await conn.fetchrow(wards.sql, *wards.args(args[t]))
                return bytes(row["tile"])
            await conn.fetch(settings)
            row = await conn.fetchrow(clusters.sql, *clusters.args(args[t]))
            return bytes(row["tile"])

    async def client(i: int) -> None:
        k = i
        while time.perf_counter() < deadline:
            t = todo[k % len(todo)]
            k += clients
            start = time.perf_counter()
            async with turns:
                conn = free.pop()
                try:
                    body = await one(conn, t)
                finally:
                    free.append(conn)
            latencies.append((time.perf_counter() - start) * 1000)
            sizes.append(len(body))

    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    finally:
        for c in conns:
            await c.close()
    return Run(latencies, elapsed, sizes)


async def main(args: argparse.Namespace) -> None:
    data = Path(args.data) if args.data else WARDS / "hcmc_wards_2025_full.geojson.gz"
    if not data.exists():
        sys.exit(f"boundary data not found: {data}")
    n = args.reports or (100_000 if args.quick else 1_000_000)
    seconds = args.seconds or (3.0 if args.quick else 6.0)
    os.environ["PHANANH_JWT_SECRET"] = SECRET
    budget = args.api_workers * load_settings().db_pool_size
    async with database(args, data) as url:
        mode = await durability(url)
        leader, count = await seed(url, n)
        token = encode_access(Principal(leader, "leader"), SECRET, 3600)
        todo = {z: await tile_list(url, z) for z in ZOOMS}
        print(
            f"{count:,} reports; {seconds:g} s per run; {os.cpu_count()} cores; database: {mode}\n"
            f"API: {args.api_workers} processes; ceiling: min(clients, {budget}) asyncpg connections; "
            f"tiles under {TILES_PER_ZOOM} random reports per zoom (distinct: "
            + ", ".join(f"z{z} {len(set(t))}" for z, t in todo.items())
            + ")",
            flush=True,
        )
        rows = []
        async with api_server(url, args.api_workers, 2) as port:
            for z in ZOOMS:  # warm up: imports, pools, plans, the pages of the tiles
                await http_run(port, token, todo[z][:16], 2, 0.5)
                await sql_run(url, leader, todo[z][:16], 2, 2, 0.5)
            for z in ZOOMS:
                for n_level, clients in enumerate(LEVELS):
                    got: dict[str, Run] = {}
                    for side in ("api", "sql") if n_level % 2 == 0 else ("sql", "api"):
                        if side == "api":
                            got[side] = await http_run(port, token, todo[z], clients, seconds)
                        else:
                            got[side] = await sql_run(
                                url, leader, todo[z], clients, min(clients, budget), seconds
                            )
                    a, b = got["api"], got["sql"]
                    rows.append((z, clients, a, b))
                    print(
                        f"z{z:<2} {clients} client(s): API {a.rate:7.1f}/s p50 {a.pct(0.5):7.1f} p99 {a.pct(0.99):7.1f} ms | "
                        f"ceiling {b.rate:7.1f}/s p50 {b.pct(0.5):7.1f} p99 {b.pct(0.99):7.1f} ms",
                        flush=True,
                    )
        print(f"\n{count:,} reports; {mode}; latencies in ms, sizes in KB")
        print("zoom clients   API/s    p50    p99  ceiling/s    p50    p99  API/ceiling  max KB  mean KB")
        for z, clients, a, b in rows:
            sizes = a.sizes + b.sizes
            print(
                f"{z:>4} {clients:>7} {a.rate:>7.1f} {a.pct(0.5):>6.1f} {a.pct(0.99):>6.1f} {b.rate:>10.1f} "
                f"{b.pct(0.5):>6.1f} {b.pct(0.99):>6.1f} {a.rate / b.rate:>12.0%} {max(sizes) / 1000:>7.1f} "
                f"{statistics.mean(sizes) / 1000:>8.1f}"
            )
        z12 = next(a for z, c, a, _ in rows if z == 12 and c == max(LEVELS))
        worst = min(a.rate / b.rate for _, _, a, b in rows)
        biggest = max(max(a.sizes + b.sizes) for _, _, a, b in rows)
        print(
            f"targets: API/ceiling ≥ {TARGET_RATIO:.0%} (worst {worst:.0%}); z12 p99 at {max(LEVELS)} clients "
            f"< {TARGET_P99_MS:g} ms ({z12.pct(0.99):.1f}); every tile < {TARGET_MAX_BYTES // 1000} KB "
            f"(largest {biggest / 1000:.1f} KB)"
        )


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="100,000 reports, 3 s runs")
    p.add_argument("--reports", type=int, default=None, help="reports to seed (default 1,000,000)")
    p.add_argument("--database-url", default=None, help="use this database (imported and seeded when empty)")
    p.add_argument("--data", default=None, help="GeoJSON to import (default: the shared HCMC set)")
    p.add_argument("--api-workers", type=int, default=2, help="API worker processes (default 2)")
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--unsafe", action="store_true", help="throwaway cluster without fsync and friends")
    asyncio.run(main(p.parse_args()))


if __name__ == "__main__":
    cli()
