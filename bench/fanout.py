"""Fan-out benchmark: N notifications to N devices through `phananh worker` to a local fake FCM.

    uv run python -m bench.fanout [--quick] [--workers K] [--chunk 100]

A throwaway PostgreSQL (or TEST_DATABASE_URL's server) gets a fresh migrated database with N
residents, one device each. The producer writes notifications the way report events do (`push.notify`
in a transaction, `--chunk` users per event) as fast as it can; K real worker processes
(`phananh worker`, firebase-admin's async batch API) deliver them to a fake FCM HTTP v1 server
in this process. Printed: notifications/s (first event → last send), and event-to-send latency
(`push_outbox.sent_at - notifications.created_at`) p50/p99. With `--rate R` the producer is paced
(R notifications/s) instead of queueing everything at once, which measures latency below saturation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

import push
from api.core import migrate
from api.core.db import Database, make_engine
from push import Text
from tests.support.database import create_database, drop_database, server_url, unique_name
from tests.support.fake_fcm import FakeFcm, service_account

ROOT = Path(__file__).resolve().parents[1]


async def seed(db: Database, n: int) -> list[uuid.UUID]:
    async with db.session() as s:
        await s.execute(
            text(
                """
                INSERT INTO users (id, role, locale)
                SELECT gen_random_uuid(), 'resident', CASE WHEN i % 5 = 0 THEN 'en' ELSE 'vi' END
                FROM generate_series(1, :n) AS i
                """
            ),
            {"n": n},
        )
        await s.execute(
            text(
                """
                INSERT INTO push_devices (token, user_id, platform, locale)
                SELECT 'bench-token-' || row_number() OVER (ORDER BY id), id, 'android', locale FROM users
                """
            )
        )
        users = list((await s.execute(text("SELECT id FROM users ORDER BY id"))).scalars())
        await s.commit()
    return users


def start_worker(url: str, creds: Path, fake: FakeFcm, data_dir: Path, batch: int) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PHANANH_")},
        "FAKE_FCM_URL": fake.fcm_url,
        "PHANANH_DATABASE_URL": url,
        "PHANANH_JWT_SECRET": "bench-secret-" + "x" * 32,
        "PHANANH_DATA_DIR": str(data_dir),
        "PHANANH_FCM_CREDENTIALS": str(creds),
        "PHANANH_PUSH_BATCH_SIZE": str(batch),
        "PHANANH_WORKER_POLL_S": "0.05",
        "PHANANH_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "tests.support.push_worker"], cwd=ROOT, env=env)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def run(n: int, workers: int, chunk: int, batch: int, rate: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="phananh-bench-"))
    with server_url() as admin, FakeFcm() as fake:
        name = unique_name("phananh_bench")
        url = await create_database(admin, name)
        db = Database(make_engine(url, pool_size=4, max_overflow=0))
        procs: list[subprocess.Popen[bytes]] = []
        try:
            await migrate.upgrade(db.engine)
            users = await seed(db, n)
            creds = service_account(tmp / "sa.json", fake.token_uri)
            procs = [start_worker(url, creds, fake, tmp / f"w{i}", batch) for i in range(workers)]
            await asyncio.sleep(3)  # let the workers start (imports, schema check) before the clock runs

            t0 = time.perf_counter()
            texts = {"vi": Text("Đã xử lý xong", "PA-BENC-0001: đã xử lý."), "en": Text("Resolved", "Done.")}
            for i in range(0, n, chunk):
                if rate > 0:  # paced: event k is written at k * chunk / rate seconds
                    await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
                async with db.session() as s:
                    await push.notify(
                        s,
                        user_ids=users[i : i + chunk],
                        kind="resolved",
                        texts=texts,
                        report_code="PA-BENC-0001",
                        data={"status": "resolved"},
                    )
                    await s.commit()
            produced = time.perf_counter() - t0
            while len(fake.delivered) < n:
                if any(p.poll() is not None for p in procs):
                    raise SystemExit("a worker died")
                if time.perf_counter() - t0 > 600:
                    raise SystemExit(f"timed out with {len(fake.delivered)}/{n} delivered")
                await asyncio.sleep(0.05)
            wall = time.perf_counter() - t0
            # the fake has every message; wait for the workers to record the last batch as sent
            while True:
                async with db.session() as s:
                    unsent = await s.scalar(text("SELECT count(*) FROM push_outbox WHERE status <> 'sent'"))
                if not unsent or time.perf_counter() - t0 > 600:
                    break
                await asyncio.sleep(0.05)

            async with db.session() as s:
                rows = (
                    await s.execute(
                        text(
                            """
                            SELECT EXTRACT(EPOCH FROM o.sent_at - n.created_at) AS lat,
                                   EXTRACT(EPOCH FROM max(o.sent_at) OVER () - min(n.created_at) OVER ()) AS span
                            FROM push_outbox o JOIN notifications n ON n.id = o.notification_id
                            WHERE o.status = 'sent'
                            """
                        )
                    )
                ).all()
                counts = await s.execute(text("SELECT status, count(*) FROM push_outbox GROUP BY status"))
                status = {str(r[0]): int(r[1]) for r in counts}
            lat = [float(r.lat) for r in rows]
            span = float(rows[0].span) if rows else float("nan")
            dupes = len(fake.delivered) - len(set(fake.delivered_tokens()))
            print(f"fan-out: {n} notifications -> {n} devices, {workers} worker process(es), batch {batch}")
            print(f"  producer: {'as fast as possible' if rate <= 0 else f'{rate:,.0f} notifications/s'}")
            print(
                f"  produced in {produced:.2f} s ({n / produced:,.0f} notifications/s written, {chunk} per event)"
            )
            print(f"  delivered: {len(fake.delivered)} at the fake FCM, duplicates {dupes}, outbox {status}")
            print(f"  throughput: {n / span:,.0f} notifications/s (first event -> last send, {span:.2f} s)")
            print(f"  wall clock (first event -> all seen by FCM): {wall:.2f} s")
            print(
                f"  event-to-send latency: p50 {pct(lat, 50) * 1000:,.0f} ms, p99 {pct(lat, 99) * 1000:,.0f} ms, "
                f"mean {statistics.fmean(lat) * 1000:,.0f} ms"
            )
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(30)
            await db.dispose()
            await drop_database(admin, name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 instead of 10,000")
    ap.add_argument("-n", type=int, default=None, help="notifications (= devices)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes")
    ap.add_argument("--chunk", type=int, default=100, help="recipients per event")
    ap.add_argument("--batch", type=int, default=500, help="PHANANH_PUSH_BATCH_SIZE")
    ap.add_argument(
        "--rate", type=float, default=0, help="produce at this many notifications/s (0: all at once)"
    )
    args = ap.parse_args()
    n = args.n or (1_000 if args.quick else 10_000)
    asyncio.run(run(n, args.workers, args.chunk, args.batch, args.rate))


if __name__ == "__main__":
    main()
