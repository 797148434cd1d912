"""Export benchmark: N reports streamed as CSV (and GeoJSON) through the API process.

    uv run python -m bench.export [--quick] [--rows N]

A throwaway PostgreSQL (or TEST_DATABASE_URL's server) gets a fresh migrated database; the synthetic
city (W1..W3 under T1) and N reports are seeded with one INSERT … SELECT generate_series. The API runs
as a separate uvicorn process; a leader of T1 downloads /v1/export.csv and /v1/export.geojson while
this script reads the body as it arrives (never keeping it). Printed per format: rows, bytes, seconds,
rows/s, and the API process's RSS before the export and its peak (VmHWM) after, from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text

from api.access.tokens import Principal, encode_access
from api.core import migrate
from api.core.db import make_engine
from tests.factories import make_city
from tests.support.database import create_database, drop_database, server_url, unique_name

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + "x" * 32


async def seed(url: str, n: int) -> uuid.UUID:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            await make_city(conn)
            cat = await conn.scalar(text("SELECT code FROM categories ORDER BY code LIMIT 1"))
            if cat is None:
                cat = "bench"
                await conn.execute(
                    text(
                        "INSERT INTO categories (code, name_vi, name_en, ack_hours, resolve_value, resolve_unit) "
                        "VALUES ('bench', 'Thử', 'Bench', 4, 3, 'days')"
                    )
                )
            reporter = uuid.uuid4()
            await conn.execute(
                text("INSERT INTO users (id, role) VALUES (:id, 'resident')"), {"id": reporter}
            )
            await conn.execute(
                text(
                    """
                    INSERT INTO reports (id, code, reporter_id, client_id, category_code, description, address,
                                         answers, geom, ward_code, status, visibility, search_text,
                                         created_at, ack_due_at, resolve_due_at)
                    SELECT gen_random_uuid(), 'PA-' || lpad(to_hex(i), 8, '0'), :reporter, gen_random_uuid(),
                           :cat, 'Ổ gà trên đường số ' || i || ', gây nguy hiểm cho người đi xe máy',
                           i || ' Nguyễn Huệ, Quận 1', '{}'::jsonb,
                           ST_SetSRID(ST_MakePoint(106.70 + (i % 300) * 0.0001, 10.771 + (i % 97) * 0.0001), 4326),
                           'W' || (1 + (i % 300) / 100), (ARRAY['new','acknowledged','in_progress','resolved'])[1 + i % 4],
                           'public', 'o ga tren duong so ' || i,
                           now() - make_interval(mins => i), now() - make_interval(mins => i) + interval '4 hours',
                           now() - make_interval(mins => i) + interval '3 days'
                    FROM generate_series(1, :n) AS i
                    """
                ),
                {"reporter": reporter, "cat": cat, "n": n},
            )
            leader = uuid.uuid4()
            await conn.execute(
                text("INSERT INTO users (id, role, username) VALUES (:id, 'leader', 'bench-lead')"),
                {"id": leader},
            )
            await conn.execute(
                text("INSERT INTO user_areas (user_id, area_code) VALUES (:id, 'T1')"), {"id": leader}
            )
            await conn.execute(text("ANALYZE reports"))
        return leader
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reset_peak(pid: int) -> None:
    """Reset the process's peak RSS (VmHWM) to its current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


async def download(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> tuple[int, int, float]:
    """(newlines-or-features, bytes, seconds) without keeping the body."""
    t0 = time.perf_counter()
    size = marks = 0
    mark = b'"Feature"' if path.endswith("geojson") else b"\n"
    tail = b""  # a marker may straddle two chunks
    async with client.stream("GET", path, headers=headers) as r:
        r.raise_for_status()
        async for chunk in r.aiter_bytes():
            size += len(chunk)
            window = tail + chunk
            marks += window.count(mark) - tail.count(mark)
            tail = window[-(len(mark) - 1) :] if len(mark) > 1 else b""
    return marks, size, time.perf_counter() - t0


async def main(n: int) -> None:
    with server_url() as admin, tempfile.TemporaryDirectory() as tmp:
        name = unique_name("phananh_bench_export")
        url = await create_database(admin, name)
        proc: subprocess.Popen[bytes] | None = None
        try:
            t0 = time.perf_counter()
            leader = await seed(url, n)
            print(f"seeded {n} reports in {time.perf_counter() - t0:.1f} s")
            port = free_port()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("PHANANH_")},
                "PHANANH_DATABASE_URL": url,
                "PHANANH_JWT_SECRET": SECRET,
                "PHANANH_DATA_DIR": tmp,
                "PHANANH_SERVE_WORKER": "false",
                "PHANANH_LOG_LEVEL": "WARNING",
            }
            proc = subprocess.Popen(  # noqa: ASYNC220
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "api.app:create_app_from_env",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                cwd=ROOT,
                env=env,
            )
            headers = {"Authorization": f"Bearer {encode_access(Principal(leader, 'leader'), SECRET, 3600)}"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
                for _ in range(100):
                    try:
                        if (await client.get("/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                # warm up: imports, pool, first query plans
                await download(client, "/v1/export.csv?area=W1&status=new&from=2999-01-01", headers)
                print(
                    f"{'format':8} {'rows':>8} {'MB':>7} {'s':>6} {'rows/s':>8} {'RSS MB':>7} {'peak MB':>8} {'growth MB':>9}"
                )
                for fmt in ("csv", "geojson"):
                    reset_peak(proc.pid)
                    rss0 = proc_kb(proc.pid, "VmRSS")
                    marks, size, secs = await download(client, f"/v1/export.{fmt}", headers)
                    hwm = proc_kb(proc.pid, "VmHWM")
                    rows = marks - 1 if fmt == "csv" else marks  # CSV: header line
                    growth = (hwm - rss0) / 1024
                    print(
                        f"{fmt:8} {rows:8d} {size / 1e6:7.1f} {secs:6.2f} {rows / secs:8.0f} "
                        f"{rss0 / 1024:7.1f} {hwm / 1024:8.1f} {growth:9.1f}"
                    )
                    assert rows == n, (fmt, rows, n)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(10)
            await drop_database(admin, name)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10,000 rows")
    args = ap.parse_args()
    asyncio.run(main(10_000 if args.quick else args.rows))
