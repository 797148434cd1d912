"""A real `phananh worker` process killed (SIGKILL) while FCM holds its batch: nothing is lost, and a
clean run afterwards delivers every notification exactly once (counted at the fake FCM)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import push
from api.core.db import Database, make_engine
from push import Text
from tests.factories import resident
from tests.support.fake_fcm import FakeFcm

ROOT = Path(__file__).resolve().parents[2]
N_USERS, BATCH = 30, 20  # 60 devices: three batches


def start_worker(db_url: str, creds: Path, fake: FakeFcm, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PHANANH_")},
        "FAKE_FCM_URL": fake.fcm_url,
        "PHANANH_DATABASE_URL": db_url,
        "PHANANH_JWT_SECRET": "worker-test-secret-" + "x" * 32,
        "PHANANH_DATA_DIR": str(data_dir),
        "PHANANH_FCM_CREDENTIALS": str(creds),
        "PHANANH_PUSH_BATCH_SIZE": str(BATCH),
        "PHANANH_PUSH_TIMEOUT_S": "5",
        "PHANANH_PUSH_LEASE_S": "6",
        "PHANANH_WORKER_POLL_S": "0.1",
        "PHANANH_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.push_worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def wait_for(
    cond: Callable[[], Any], what: str, proc: subprocess.Popen[bytes], limit_s: float = 60
) -> None:
    """Poll `cond()` (sync or async) until true; fail with the worker's stderr if it never is."""
    deadline = time.monotonic() + limit_s
    while True:
        result = cond()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.stderr.read().decode() if proc.stderr else ""
            proc.wait()
            pytest.fail(f"gave up waiting for {what}; worker exit {proc.poll()}:\n{err[-3000:]}")
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    fresh_db: str, fake_fcm: FakeFcm, fcm_credentials: Path, tmp_path: Path
) -> None:
    db = Database(make_engine(fresh_db, pool_size=2, max_overflow=0))
    try:
        async with db.session() as s:
            users = [(await resident(s)).id for _ in range(N_USERS)]
            for i, uid in enumerate(users):
                for j, locale in enumerate(("vi", "en")):
                    await push.register_device(
                        s, user_id=uid, token=f"tok-{i}-{j}", platform="android", locale=locale
                    )
            await push.notify(s, user_ids=users, kind="started", texts={"vi": Text("Đang xử lý", "PA")})
            await s.commit()

        async def count(status: str) -> int:
            async with db.session() as s:
                return int(
                    await s.scalar(text("SELECT count(*) FROM push_outbox WHERE status = :s"), {"s": status})
                )

        # 1. the first batch goes through; FCM then holds the second batch's requests open
        fake_fcm.hold_after = BATCH
        first = start_worker(fresh_db, fcm_credentials, fake_fcm, tmp_path / "w1")
        await wait_for(lambda: fake_fcm.held >= 1, "a held request", first)
        await wait_for(lambda: count("sent"), "the first batch recorded as sent", first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        first.stderr.close()  # type: ignore[union-attr]
        assert first.returncode == -signal.SIGKILL
        assert await count("sent") == BATCH
        assert await count("pending") == 2 * N_USERS - BATCH  # the held batch is still there, leased

        # 2. FCM behaves again; a clean worker finishes once the dead worker's lease runs out
        fake_fcm.hold_after = None
        fake_fcm.release_held()
        second = start_worker(fresh_db, fcm_credentials, fake_fcm, tmp_path / "w2")
        try:
            await wait_for(lambda: _all_sent(count), "every row sent", second, limit_s=90)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(15)
            second.stderr.close()  # type: ignore[union-attr]
        assert second.returncode == 0

        delivered = Counter(fake_fcm.delivered_tokens())
        assert len(delivered) == 2 * N_USERS
        assert set(delivered.values()) == {1}  # each device exactly once
        async with db.session() as s:
            attempts = Counter((await s.execute(text("SELECT attempts FROM push_outbox"))).scalars())
        assert attempts == {1: 2 * N_USERS - BATCH, 2: BATCH}  # only the held batch went twice
    finally:
        await db.dispose()


async def _all_sent(count: Callable[[str], Awaitable[int]]) -> bool:
    return await count("sent") == 2 * N_USERS
