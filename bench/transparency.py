"""The public league table's cost: every ward of a city with its figures over a period.

    uv run python -m bench.transparency [--quick] [--rows N] [--wards W]

A throwaway PostgreSQL (or TEST_DATABASE_URL's server) gets a fresh migrated database with a province
of W wards (no boundaries: the table needs none) and N reports spread over three years (one INSERT …
SELECT generate_series; statuses, deadlines, resolutions, reopenings and ratings varied, one in twenty
hidden). Then, in this process, the service behind GET /transparency and GET /v1/public/wards
(`api.pages.service.ward_table`) for the default 90 days and for the longest period allowed, and the
HTML rendering; each the median of several runs. Printed: milliseconds, page bytes, and the ratio of
the longest period's time to the default's (the table is cached publicly for five minutes; a caller
choosing odd periods skips that cache, so the longest period's cost is the one to watch).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import text

from api.core import clock, migrate
from api.core.db import Database, make_engine
from api.pages import html, service
from tests.support.database import create_database, drop_database, server_url, unique_name

SEED = """
INSERT INTO reports (id, code, reporter_id, client_id, category_code, description, answers, geom,
                     ward_code, status, visibility, search_text, created_at, ack_due_at, resolve_due_at,
                     acknowledged_at, resolved_at, reopen_count, rating)
SELECT gen_random_uuid(), 'PA-' || lpad(to_hex(i), 8, '0'), NULL, gen_random_uuid(), :cat,
       'Ổ gà số ' || i, '{}'::jsonb, ST_SetSRID(ST_MakePoint(106.7, 10.77), 4326),
       'BW' || lpad((i % :wards)::text, 3, '0'),
       (ARRAY['new','acknowledged','in_progress','resolved','closed','rejected'])[1 + i % 6],
       CASE WHEN i % 20 = 0 THEN 'hidden' ELSE 'public' END, 'o ga so ' || i,
       t, t + interval '4 hours', t + interval '3 days',
       CASE WHEN i % 6 > 0 THEN t + interval '2 hours' END,
       CASE WHEN i % 6 IN (3, 4) THEN t + make_interval(hours => 12 + i % 120) END,
       CASE WHEN i % 6 = 4 AND i % 7 = 0 THEN 1 ELSE 0 END,
       CASE WHEN i % 6 = 4 THEN 1 + i % 5 END
FROM generate_series(1, :n) AS i, LATERAL (SELECT now() - make_interval(secs => (:n - i) * 94608000.0 / :n) AS t) AS c
"""


async def seed(db: Database, rows: int, wards: int) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO areas (code, name, name_ascii, level, depth, lineage, is_leaf) "
                "VALUES ('BIG', 'Thành phố Thử', 'thanh pho thu', 'province', 0, ARRAY['BIG'], false)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO areas (code, name, name_ascii, level, depth, parent_code, lineage, is_leaf) "
                "SELECT 'BW' || lpad(i::text, 3, '0'), 'Phường Số ' || i, 'phuong so ' || i, 'ward', 1, 'BIG', "
                "ARRAY['BIG', 'BW' || lpad(i::text, 3, '0')], true FROM generate_series(0, :w - 1) AS i"
            ),
            {"w": wards},
        )
        cat = await conn.scalar(text("SELECT code FROM categories ORDER BY code LIMIT 1"))
        await conn.execute(text(SEED), {"cat": cat, "n": rows, "wards": wards})
        await conn.execute(text("ANALYZE reports"))


async def median_ms(fn: Callable[[], Awaitable[object]], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def main(rows: int, wards: int, runs: int) -> None:
    with server_url() as admin:
        name = unique_name("phananh_bench_transparency")
        url = await create_database(admin, name)
        engine = make_engine(url, pool_size=2, max_overflow=0)
        db = Database(engine)
        try:
            await migrate.upgrade(engine)
            t0 = time.perf_counter()
            await seed(db, rows, wards)
            print(
                f"seeded {rows} reports over three years in {wards} wards in {time.perf_counter() - t0:.1f} s"
            )
            today = clock.local_date(clock.now_utc())
            periods = {
                "90 days (default)": (today - timedelta(days=service.DEFAULT_DAYS - 1), today),
                f"{service.MAX_DAYS} days (longest)": (today - timedelta(days=service.MAX_DAYS - 1), today),
            }
            results: dict[str, float] = {}
            for label, (start, end) in periods.items():
                q = service.TableQuery("BIG", start, end, "on_time_pct", "desc")

                async def table(q: service.TableQuery = q) -> object:
                    async with db.session() as s:
                        return await service.ward_table(s, q, english=False)

                results[label] = await median_ms(table, runs)
                async with db.session() as s:
                    t = await service.ward_table(s, q, english=False)
                received = sum(w.received for w in t.wards)
                t0 = time.perf_counter()
                for _ in range(runs):
                    page = html.table_page(t, english=False, query={"area": "BIG"})
                render_ms = (time.perf_counter() - t0) * 1000 / runs
                print(
                    f"{label:<22} {received:>8} reports  table {results[label]:7.1f} ms  "
                    f"render {render_ms:5.1f} ms  page {len(page):,} bytes"
                )
            a, b = results.values()
            print(f"longest / default period: {b / a:.1f}x")
        finally:
            await engine.dispose()
            await drop_database(admin, name)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20,000 reports, 3 runs")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--wards", type=int, default=300)
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 500_000)
    asyncio.run(main(rows, args.wards, 3 if args.quick else 7))


if __name__ == "__main__":
    cli()
