"""Report-submission benchmark: POST /v1/reports at increasing concurrency, next to its SQL ceiling.

    uv run python -m bench.submit [--quick] [--database-url URL] [--api-workers 2] [--seconds 8]

Real ward data (the HCMC set from ../shared) is imported into a fresh database. The API runs in its own
processes (`phananh serve --workers N`); each client is its own registered device and sends reports at
random points inside the wards (40 seeded points per ward, so "nearby reports" stays realistic as
reports pile up) with a fresh Idempotency-Key, one request in flight, over keep-alive HTTP/1.1 on raw
sockets (a lean client, so the load generator takes little of the 2 cores).

The ceiling is a plain asyncpg script running the API's own statements (imported from its modules),
in its order, in one transaction per report: the claim with every read (idempotency key, category
rules + holidays, ward, agency route, nearby reports), then the report with its stored answer and
its first event with that event's notification facts.
Both sides get RAMP_S seconds of unmeasured ramp-up per level (connections opening, statements being
prepared), then `--seconds` measured. Printed: reports/s, p50/p99 and the ratio API/ceiling at 1, 8,
32 and 128 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from api.core.db import plain_url
from api.core.settings import Settings
from api.reports import events, sql
from api.reports import service as submit
from api.reports.codes import new_code
from api.reports.schemas import ReportIn
from bench.lookup import WARDS, Figures, api_server, database, load

LEVELS = (1, 8, 32, 128)
CATEGORY = "ngap-nuoc"
RAMP_S = 1.0
POINTS_PER_WARD = 40
HISTORY_PER_WARD = 120  # reports seeded before measuring (≈ 20,000 for the HCMC set)
SETTINGS = Settings()  # the defaults the API processes run with


def report_body(lat: float, lng: float) -> bytes:
    return json.dumps(
        {
            "category": CATEGORY,
            "description": "Đường ngập sâu sau mưa lớn",
            "lat": lat,
            "lng": lng,
            "accuracy_m": 10,
        }
    ).encode()


def measured(name: str, done: list[tuple[float, float]], start: float, end: float) -> Figures:
    """Figures over the steady window [start, end); what finished before it was ramp-up."""
    lat = [ms for t, ms in done if start <= t < end]
    return Figures(name, len(lat), end - start, lat)


async def http_run(
    port: int, tokens: list[str], points: list[tuple[float, float]], clients: int, seconds: float
) -> Figures:
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
    return measured(f"API POST /v1/reports, {clients:>3} clients", done, start, end)


async def sql_run(
    url: str, users: list[uuid.UUID], points: list[tuple[float, float]], clients: int, seconds: float
) -> Figures:
    """The API's own statements (imported from its modules) in its order, on a plain asyncpg pool."""

    async def init(conn: asyncpg.Connection) -> None:
        # JSON as the API's connections have it (SQLAlchemy's asyncpg dialect sets this codec)
        await conn.set_type_codec("jsonb", encoder=str, decoder=json.loads, schema="pg_catalog")

    size = min(clients, 20)
    pool = await asyncpg.create_pool(plain_url(url), min_size=size, max_size=size, init=init)
    done: list[tuple[float, float]] = []
    start = time.perf_counter() + RAMP_S
    end = start + seconds

    async def client(i: int) -> None:
        rnd = random.Random(1000 + i)
        while time.perf_counter() < end:
            lat, lng = rnd.choice(points)
            t = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                key, user, now = str(uuid.uuid4()), users[i], datetime.now(UTC)
                data = ReportIn(CATEGORY, "Đường ngập sâu", lat, lng, accuracy_m=10)
                prepare = submit.prepare_params(SETTINGS, user, key, b"h" * 32, data, False, now)
                found = await conn.fetchrow(sql.PREPARE.sql, *sql.PREPARE.args(prepare))
                ward = found["ward_code"]
                rid = uuid.uuid4()
                event = events.new_event(
                    rid, "created", actor_id=user, actor_role="resident", to_status="new"
                )
                write = {
                    "id": rid, "code": new_code(), "reporter_id": user, "client_id": None,
                    "category": CATEGORY, "description": "Đường ngập sâu", "address": None, "answers": "{}",
                    "lng": lng, "lat": lat, "accuracy_m": 10.0, "ward_code": ward, "agency_code": None,
                    "near_boundary": False, "snapped_m": None, "visibility": "public", "anonymous": False,
                    "ack_due_at": now, "resolve_due_at": now, "search_text": "duong ngap sau", "now": now,
                    "key": key, "response": json.dumps({"id": str(rid)}), **events.event_params(event),
                }  # fmt: skip
                await conn.fetchrow(sql.WRITE.sql, *sql.WRITE.args(write))
            finished = time.perf_counter()
            done.append((finished, (finished - t) * 1000))

    try:
        await asyncio.gather(*(client(i) for i in range(clients)))
    finally:
        await pool.close()
    return measured(f"ceiling: asyncpg SQL, {clients:>3} clients", done, start, end)


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
            await conn.execute("ANALYZE reports")
        return int(await conn.fetchval("SELECT count(*) FROM reports"))
    finally:
        await conn.close()


async def register(port: int, n: int) -> tuple[list[str], list[uuid.UUID]]:
    tokens, users = [], []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for i in range(n):
            r = await client.post(
                "/v1/auth/device", json={"device_id": f"bench-device-{i:05d}", "platform": "android"}
            )
            r.raise_for_status()
            tokens.append(r.json()["access_token"])
            users.append(uuid.UUID(r.json()["user_id"]))
    return tokens, users


async def main(args: argparse.Namespace) -> None:
    data = Path(args.data) if args.data else WARDS / "hcmc_wards_2025_full.geojson.gz"
    if not data.exists():
        sys.exit(f"boundary data not found: {data}")
    seconds = args.seconds or (3.0 if args.quick else 8.0)
    # a benchmark is not abuse: lift the per-device and per-address limits for the API processes
    os.environ["PHANANH_REPORT_RATE_PER_DEVICE_HOUR"] = "10000000"
    os.environ["PHANANH_REPORT_RATE_PER_IP_HOUR"] = "10000000"
    async with database(args, data) as url:
        points, polys = await load(url, per_ward=POINTS_PER_WARD)
        print(f"{await seed_history(url, HISTORY_PER_WARD):,} reports already in the database")
        print(
            f"{len(polys)} wards; {seconds:.0f} s per run; {os.cpu_count()} cores; API workers {args.api_workers}"
        )
        async with api_server(url, args.api_workers, 2) as port:
            tokens, users = await register(port, max(LEVELS))
            rows = []
            for level in LEVELS:
                api = await http_run(port, tokens, points, level, seconds)
                print(api.line().replace("lookups/s", "reports/s"), flush=True)
                ceiling = await sql_run(url, users, points, level, seconds)
                print(ceiling.line().replace("lookups/s", "reports/s"), flush=True)
                rows.append((level, api, ceiling))
        print("\nclients   API/s   ceiling/s   ratio   API p99 ms")
        for level, api, ceiling in rows:
            print(
                f"{level:>7} {api.rate:>7.0f} {ceiling.rate:>11.0f} {api.rate / ceiling.rate:>7.0%} {api.p99:>12.1f}"
            )
        print("target at 32 clients: ratio ≥ 50%, p99 < 100 ms")


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 s runs")
    p.add_argument("--database-url", default=None, help="use this database (wards imported when empty)")
    p.add_argument("--data", default=None, help="GeoJSON to import (default: the shared HCMC set)")
    p.add_argument("--api-workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=None)
    asyncio.run(main(p.parse_args()))


if __name__ == "__main__":
    cli()
