"""Report-submission benchmark: POST /v1/reports at increasing concurrency, next to its SQL ceiling.

    uv run python -m bench.submit [--quick] [--database-url URL] [--api-workers 2] [--seconds 8]

Real ward data (the HCMC set from ../shared) is imported into a fresh database. The API runs in its own
processes (`phananh serve --workers N`); each client is its own registered device and sends reports at
random points inside the wards with a fresh Idempotency-Key, one request in flight, over keep-alive
HTTP/1.1 on raw sockets (a lean client, so the load generator takes little of the 2 cores).

The ceiling is a plain asyncpg script doing the same SQL work per report in one transaction (ward
lookup, nearby reports, agency route, idempotency row, report, event, stored answer) at the same
concurrency. Printed: reports/s, p50/p99 and the ratio API/ceiling at 1, 8, 32 and 128 clients.
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
from pathlib import Path

import asyncpg
import httpx

from api.db import plain_url
from bench.lookup import WARDS, Figures, api_server, database, load
from geo.lookup import _ONE_SQL, _params

LEVELS = (1, 8, 32, 128)
CATEGORY = "ngap-nuoc"


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


async def http_run(
    port: int, tokens: list[str], points: list[tuple[float, float]], clients: int, seconds: float
) -> Figures:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        rnd = random.Random(i)
        while time.perf_counter() < deadline:
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
            latencies.append((time.perf_counter() - t) * 1000)
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    fig = Figures(
        f"API POST /v1/reports, {clients:>3} clients", len(latencies), time.perf_counter() - t0, latencies
    )
    if errors:
        print(f"  ({errors} non-201 answers at {clients} clients)")
    return fig


_NEARBY = """
WITH pt AS (SELECT geography(ST_SetSRID(ST_MakePoint($2, $1), 4326)) AS g)
SELECT r.code, ST_Distance(geography(r.geom), pt.g) AS d FROM reports r, pt
WHERE ST_DWithin(geography(r.geom), pt.g, 100) AND r.category_code = $3
  AND r.status = ANY(ARRAY['new','acknowledged','in_progress']) AND r.visibility = 'public'
  AND r.created_at >= now() - interval '30 days'
ORDER BY d LIMIT 5
"""
_AGENCY = """
SELECT cr.agency_code FROM category_routes cr JOIN areas w ON cr.area_code = ANY(w.lineage)
WHERE w.code = $1 AND cr.category_code = $2 ORDER BY array_position(w.lineage, cr.area_code) DESC LIMIT 1
"""


async def sql_run(
    url: str, users: list[uuid.UUID], points: list[tuple[float, float]], clients: int, seconds: float
) -> Figures:
    pool = await asyncpg.create_pool(plain_url(url), min_size=min(clients, 20), max_size=min(clients, 20))
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        rnd = random.Random(1000 + i)
        while time.perf_counter() < deadline:
            lat, lng = rnd.choice(points)
            t = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                key = str(uuid.uuid4())
                await conn.execute(
                    "INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    users[i],
                    key,
                    b"h" * 32,
                )
                await conn.fetchrow("SELECT * FROM categories WHERE code = $1", CATEGORY)
                ward = await conn.fetchrow(_ONE_SQL, *_params(lat, lng, 200.0, 15.0))
                await conn.fetch(
                    "SELECT code, name, level FROM areas WHERE code = ANY((SELECT lineage FROM areas WHERE code = $1)::text[])",
                    ward["code"],
                )
                await conn.fetch(_NEARBY, lat, lng, CATEGORY)
                await conn.fetchval(_AGENCY, ward["code"], CATEGORY)
                rid = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO reports (id, code, reporter_id, category_code, description, geom, ward_code, "
                    "ack_due_at, resolve_due_at, search_text) VALUES ($1, $2, $3, $4, $5, "
                    "ST_SetSRID(ST_MakePoint($6, $7), 4326), $8, now() + interval '2 hours', "
                    "now() + interval '2 days', $9)",
                    rid,
                    "PB-" + uuid.uuid4().hex[:9].upper(),
                    users[i],
                    CATEGORY,
                    "Đường ngập sâu",
                    lng,
                    lat,
                    ward["code"],
                    "duong ngap sau",
                )
                await conn.execute(
                    "INSERT INTO report_events (id, report_id, kind, actor_id, actor_role, to_status) "
                    "VALUES ($1, $2, 'created', $3, 'resident', 'new')",
                    uuid.uuid4(),
                    rid,
                    users[i],
                )
                await conn.execute(
                    "UPDATE idempotency_keys SET report_id = $1, status_code = 201, response = $2::jsonb "
                    "WHERE user_id = $3 AND key = $4",
                    rid,
                    json.dumps({"id": str(rid)}),
                    users[i],
                    key,
                )
            latencies.append((time.perf_counter() - t) * 1000)

    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(client(i) for i in range(clients)))
    finally:
        await pool.close()
    return Figures(
        f"ceiling: asyncpg SQL, {clients:>3} clients", len(latencies), time.perf_counter() - t0, latencies
    )


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
        points, polys = await load(url)
        print(
            f"{len(polys)} wards; {seconds:.0f} s per run; {os.cpu_count()} cores; API workers {args.api_workers}"
        )
        async with api_server(url, args.api_workers, 2) as port:
            tokens, users = await register(port, max(LEVELS))
            await http_run(port, tokens, points, 4, 1.0)  # warm-up
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
