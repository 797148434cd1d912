"""Report-submission benchmark: POST /v1/reports at increasing concurrency, next to its SQL ceiling.

    uv run python -m bench.submit [--quick] [--database-url URL] [--api-workers 2] [--seconds 8]
                                  [--both-orders] [--unsafe]

Real ward data (the HCMC set from ../shared) is imported into a fresh database (or `--database-url`,
which is then only copied from: it needs CREATEDB and no other connections). The API runs in its own
processes (`phananh serve --workers N`); each client is its own registered device and sends reports at
random points inside the wards (40 seeded points per ward, so "nearby reports" stays realistic as
reports pile up) with a fresh Idempotency-Key, one request in flight, over keep-alive HTTP/1.1 on raw
sockets (a lean client, so the load generator takes little of the 2 cores).

The ceiling is a plain asyncpg script running the API's own statements (imported from its modules),
in its order, in one transaction per report: the claim with every read (idempotency key, category
rules + holidays, ward, agency route, nearby reports), then the report with its stored answer and
its first event with that event's notification facts.

So that neither side is flattered by the other's run or by its settings:
- every run starts on its own copy of one prepared database (wards, ~20,000 older reports, the
  devices), made with a checkpoint: both sides insert into tables of the same size, and neither pays
  for the other's WAL or dirty pages; the API processes start afresh on each copy;
- the ceiling holds as many connections as the API processes can use at once (workers ×
  PHANANH_DB_POOL_SIZE: `api.core.db.Database` opens no more sessions), opened on demand and taken in
  arrival order as the API's are, and its clients send the same points in the same order;
- which side runs first alternates per level (`--both-orders`: API, ceiling, ceiling, API, pooled);
- PostgreSQL keeps its durable defaults (`--unsafe`: a throwaway cluster with fsync,
  synchronous_commit and full_page_writes off); the printout says what the server ran with.
Each run has RAMP_S seconds of unmeasured ramp-up (connections opening, statements being prepared, a
cold copy), then `--seconds` measured. Printed per level (1, 8, 32, 128 clients) with its order:
reports/s and p50/p99 of each side, and the ratio API/ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from api.core import ratelimit, text
from api.core.db import plain_url
from api.core.settings import Settings, load_settings
from api.reports import events, sql
from api.reports import service as submit
from api.reports.codes import new_code
from api.reports.schemas import ReportIn
from bench.lookup import WARDS, Figures, api_server, database, durability, load
from tests.support.database import db_url, drop_database, unique_name

LEVELS = (1, 8, 32, 128)
CATEGORY = "ngap-nuoc"
DESCRIPTION = "Đường ngập sâu sau mưa lớn"
RAMP_S = 2.0
POINTS_PER_WARD = 40
HISTORY_PER_WARD = 120  # reports seeded before measuring (≈ 20,000 for the HCMC set)

Run = tuple[list[float], float]  # latencies (ms) finished inside the measured window, its length (s)


def report_body(lat: float, lng: float) -> bytes:
    return json.dumps(
        {"category": CATEGORY, "description": DESCRIPTION, "lat": lat, "lng": lng, "accuracy_m": 10}
    ).encode()


def measured(done: list[tuple[float, float]], start: float, end: float) -> Run:
    """Latencies over the steady window [start, end); what finished before it was ramp-up."""
    return [ms for t, ms in done if start <= t < end], end - start


def figures(name: str, runs: list[Run]) -> Figures:
    """One side at one level: every run's reports over every run's seconds, percentiles over all."""
    latencies = [ms for lat, _ in runs for ms in lat]
    return Figures(name, len(latencies), sum(s for _, s in runs), latencies)


async def http_run(
    port: int, tokens: list[str], points: list[tuple[float, float]], clients: int, seconds: float
) -> Run:
    done: list[tuple[float, float]] = []
    errors = 0
    start = time.perf_counter() + RAMP_S
    end = start + seconds

    async def client(i: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        rnd = random.Random(i)
        while time.perf_counter() < end:
            lat, lng = rnd.choice(points)
            body = report_body(lat, lng)
            head = (
                f"POST /v1/reports HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {tokens[i]}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            t = time.perf_counter()
            writer.write(head + body)
            resp = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", resp, re.I)[1])  # type: ignore[index]
            await reader.readexactly(length)
            if not resp.startswith(b"HTTP/1.1 201"):
                errors += 1
                continue
            now = time.perf_counter()
            done.append((now, (now - t) * 1000))
        writer.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    if errors:
        print(f"  ({errors} non-201 answers at {clients} clients)")
    return measured(done, start, end)


async def sql_run(
    url: str,
    settings: Settings,
    users: list[uuid.UUID],
    points: list[tuple[float, float]],
    clients: int,
    connections: int,
    seconds: float,
) -> Run:
    """The API's own statements (imported from its modules) in its order, on a plain asyncpg pool of
    `connections`, opened on demand as the API's pool does; clients take their turn in arrival order,
    as `api.core.db.Database` makes sessions do (asyncpg's pool lets a returning client barge ahead)."""

    async def init(conn: asyncpg.Connection) -> None:
        # JSON as the API's connections have it (SQLAlchemy's asyncpg dialect sets this codec)
        await conn.set_type_codec("jsonb", encoder=str, decoder=json.loads, schema="pg_catalog")

    pool = await asyncpg.create_pool(plain_url(url), min_size=0, max_size=connections, init=init)
    turns = asyncio.Semaphore(connections)  # asyncio.Semaphore serves waiters in order
    done: list[tuple[float, float]] = []
    start = time.perf_counter() + RAMP_S
    end = start + seconds
    search_text = text.search_text(DESCRIPTION, None)
    limits = ratelimit.Limits.of(settings)  # the API's limits, counted in PREPARE as the API does

    async def client(i: int) -> None:
        rnd = random.Random(i)  # the same points, in the same order, as the API's client i
        while time.perf_counter() < end:
            lat, lng = rnd.choice(points)
            t = time.perf_counter()
            async with turns, pool.acquire() as conn, conn.transaction():
                key, user, now = str(uuid.uuid4()), users[i], datetime.now(UTC)
                data = ReportIn(CATEGORY, DESCRIPTION, lat, lng, accuracy_m=10)
                checks = ((limits.report_user, str(user)), (limits.report_ip, "127.0.0.1"))
                prepare = submit.prepare_params(
                    settings, user, key, b"h" * 32, data, False, now
                ) | ratelimit.hit_params(checks, ratelimit.now())
                found = await conn.fetchrow(sql.PREPARE.sql, *sql.PREPARE.args(prepare))
                ward = found["ward_code"]
                rid = uuid.uuid4()
                event = events.new_event(
                    rid, "created", actor_id=user, actor_role="resident", to_status="new"
                )
                write = {
                    "id": rid, "code": new_code(), "reporter_id": user, "client_id": None,
                    "category": CATEGORY, "description": DESCRIPTION, "address": None, "answers": "{}",
                    "lng": lng, "lat": lat, "accuracy_m": 10.0, "ward_code": ward, "agency_code": None,
                    "near_boundary": False, "snapped_m": None, "visibility": "public", "anonymous": False,
                    "ack_due_at": now, "resolve_due_at": now, "search_text": search_text, "now": now,
                    "key": key, "response": json.dumps({"id": str(rid)}), "held_for": "[]",
                    **events.event_params(event),
                }  # fmt: skip
                await conn.fetchrow(sql.WRITE.sql, *sql.WRITE.args(write))
            finished = time.perf_counter()
            done.append((finished, (finished - t) * 1000))

    try:
        await asyncio.gather(*(client(i) for i in range(clients)))
    finally:
        await pool.close()
    return measured(done, start, end)


async def seed_history(url: str, per_ward: int) -> int:
    """A city that has been reporting for a while: `per_ward` reports in every ward over the last 60
    days, every category and status (an empty table would let the planner pick plans that only suit
    an empty table). No officers are seeded, so no inbox rows are written (bench.fanout covers them)."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        have = await conn.fetchval("SELECT count(*) FROM reports")
        if have == 0:
            seeder = uuid.uuid4()
            await conn.execute("INSERT INTO users (id, role) VALUES ($1, 'resident')", seeder)
            await conn.execute(
                """
                INSERT INTO reports (id, code, reporter_id, category_code, description, geom, ward_code,
                                     status, visibility, search_text, created_at, updated_at)
                SELECT gen_random_uuid(), 'SD-' || lpad(i::text, 9, '0'), $1,
                       cats[1 + i % cardinality(cats)], 'Phản ánh cũ ' || i, p, code,
                       (ARRAY['new','acknowledged','in_progress','resolved','closed'])[1 + i % 5], 'public',
                       'phan anh cu ' || i, now() - i * interval '3 minutes', now() - i * interval '3 minutes'
                FROM (SELECT row_number() OVER () AS i, code, p
                      FROM (SELECT code, (ST_Dump(ST_GeneratePoints(geom, $2, 7))).geom AS p
                            FROM areas WHERE is_leaf AND geom IS NOT NULL) pts) x,
                     (SELECT array_agg(code ORDER BY code) AS cats FROM categories) c
                """,
                seeder,
                per_ward,
            )
        return int(await conn.fetchval("SELECT count(*) FROM reports"))
    finally:
        await conn.close()


async def register(port: int, n: int) -> tuple[list[str], list[uuid.UUID]]:
    tokens, users = [], []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for i in range(n):
            r = await client.post(
                "/v1/auth/device",
                json={
                    "device_id": f"bench-device-{i:05d}",
                    "device_secret": secrets.token_urlsafe(32),
                    "platform": "android",
                },
            )
            r.raise_for_status()
            tokens.append(r.json()["access_token"])
            users.append(uuid.UUID(r.json()["user_id"]))
    return tokens, users


async def settle(url: str) -> None:
    """Hint bits, visibility map and statistics of the prepared database set now, once, for every copy."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


@asynccontextmanager
async def copy_of(url: str) -> AsyncIterator[str]:
    """A fresh copy of the database at `url` (which nobody may be connected to), checkpointed, dropped
    afterwards: each run starts from the same tables, with no WAL or dirty pages of an earlier run."""
    base = make_url(url).database
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    name = unique_name("phananh_bench_run")
    conn = await asyncpg.connect(plain_url(admin))
    try:
        # a file copy (the only way before 15) checkpoints before and after copying, and writes no WAL
        # of the whole database that a run would have to checkpoint
        strategy = " STRATEGY FILE_COPY" if conn.get_server_version().major >= 15 else ""
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base}"{strategy}')
    finally:
        await conn.close()
    try:
        yield db_url(url, name)
    finally:
        await drop_database(plain_url(admin), name)


async def main(args: argparse.Namespace) -> None:
    data = Path(args.data) if args.data else WARDS / "hcmc_wards_2025_full.geojson.gz"
    if not data.exists():
        sys.exit(f"boundary data not found: {data}")
    seconds = args.seconds or (3.0 if args.quick else 8.0)
    # a benchmark is not abuse: lift the per-device and per-address limits for the API processes;
    # the devices' tokens are issued once and must outlive every run
    os.environ["PHANANH_REPORT_RATE_PER_DEVICE_HOUR"] = "10000000"
    os.environ["PHANANH_REPORT_RATE_PER_IP_HOUR"] = "10000000"
    os.environ["PHANANH_REGISTER_RATE_PER_IP_MINUTE"] = "10000000"  # every device registers from here
    os.environ["PHANANH_ACCESS_TOKEN_TTL_S"] = str(24 * 3600)
    settings = load_settings()  # what the API processes read, from the same environment
    budget = args.api_workers * settings.db_pool_size
    async with database(args, data) as url:
        mode = await durability(url)
        points, polys = await load(url, per_ward=POINTS_PER_WARD)
        history = await seed_history(url, HISTORY_PER_WARD)
        async with api_server(url, args.api_workers, 2) as port:
            tokens, users = await register(port, max(LEVELS))
        await settle(url)
        orders = "API, ceiling, ceiling, API at every level" if args.both_orders else "alternating per level"
        print(
            f"{len(polys)} wards; {seconds:g} s per run after {RAMP_S:g} s ramp-up; {os.cpu_count()} cores\n"
            f"database: {mode}\n"
            f"tables: every run starts on its own copy of one database with {history:,} reports\n"
            f"connections: API {args.api_workers} processes × {settings.db_pool_size} sessions = {budget}; "
            f"ceiling min(clients, {budget})\n"
            f"order: {orders}",
            flush=True,
        )
        rows = []
        for n, level in enumerate(LEVELS):
            sides: tuple[str, ...]
            if args.both_orders:
                sides, order = ("api", "sql", "sql", "api"), "both"
            elif n % 2 == 0:
                sides, order = ("api", "sql"), "API first"
            else:
                sides, order = ("sql", "api"), "ceiling first"
            runs: dict[str, list[Run]] = {"api": [], "sql": []}
            for side in sides:
                async with copy_of(url) as run_url:
                    if side == "api":
                        async with api_server(run_url, args.api_workers, 2) as port:
                            run = await http_run(port, tokens, points, level, seconds)
                    else:
                        conns = min(level, budget)
                        run = await sql_run(run_url, settings, users, points, level, conns, seconds)
                runs[side].append(run)
                name = "API POST /v1/reports" if side == "api" else "ceiling: asyncpg SQL"
                fig = figures(f"{name}, {level:>3} clients", [run])
                print(fig.line().replace("lookups/s", "reports/s"), flush=True)
            rows.append((level, order, figures("API", runs["api"]), figures("ceiling", runs["sql"])))
        print(f"\n{mode}; order: {orders}; latencies in ms")
        print("clients  order          API/s    p50    p99  ceiling/s    p50    p99  API/ceiling")
        for level, order, api, ceiling in rows:
            print(
                f"{level:>7}  {order:<13} {api.rate:>6.0f} {api.p50:>6.1f} {api.p99:>6.1f} "
                f"{ceiling.rate:>10.0f} {ceiling.p50:>6.1f} {ceiling.p99:>6.1f} {api.rate / ceiling.rate:>12.0%}"
            )
        print("target at 32 clients: ratio ≥ 50%, p99 < 100 ms")


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 s runs")
    p.add_argument(
        "--database-url",
        default=None,
        help="prepare this database (wards imported when empty) and copy it for every run (needs CREATEDB)",
    )
    p.add_argument("--data", default=None, help="GeoJSON to import (default: the shared HCMC set)")
    p.add_argument("--api-workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--both-orders", action="store_true", help="API, ceiling, ceiling, API at every level")
    p.add_argument(
        "--unsafe",
        action="store_true",
        help="throwaway cluster without fsync, synchronous_commit, full_page_writes",
    )
    asyncio.run(main(p.parse_args()))


if __name__ == "__main__":
    cli()
