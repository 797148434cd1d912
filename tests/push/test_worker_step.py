"""The push step as the worker runs it (`api.worker.run_once`), and the backoff rule."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import push
from api import worker
from api.core.db import Database
from api.core.settings import Settings
from push import Text
from tests.factories import resident
from tests.support.fake_fcm import FakeFcm


async def test_worker_round_delivers_with_credentials_and_skips_without(
    session: AsyncSession, database: Database, settings: Settings, fake_fcm: FakeFcm, fcm_credentials: Path
) -> None:
    uid = (await resident(session)).id
    await push.register_device(session, user_id=uid, token="tok-w", platform="ios", locale="en")
    await push.notify(
        session, user_ids=[uid], kind="started", texts={"vi": Text("A", "B"), "en": Text("C", "D")}
    )
    await session.commit()
    try:
        done = await worker.run_once(database, settings.with_(fcm_credentials=str(fcm_credentials)))
        assert done == 1
        [msg] = fake_fcm.delivered
        assert msg["token"] == "tok-w" and msg["notification"] == {"title": "C", "body": "D"}
    finally:
        await push.close_senders()

    await push.notify(session, user_ids=[uid], kind="started", texts={"vi": Text("E", "F")})
    await session.commit()
    assert await worker.run_once(database, settings) == 1  # no credentials: retired, inbox only
    statuses = (await session.execute(text("SELECT status FROM push_outbox ORDER BY id"))).scalars().all()
    assert statuses == ["sent", "skipped"]
    assert len(fake_fcm.delivered) == 1
    assert (await push.inbox(session, uid, locale="en")).unread == 2


def test_backoff_grows_exponentially_with_jitter_and_honours_retry_after() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        base = min(3600.0, 2.0 ** (attempt - 1))
        for _ in range(50):
            d = push.backoff_s(attempt, rng=rng)
            assert base * 0.5 <= d <= base
    assert push.backoff_s(1, 30.0, rng=rng) >= 30.0
    assert push.backoff_s(1, 10**9, rng=rng) == 3600.0  # a silly Retry-After is capped
    assert push.backoff_s(20, rng=rng) <= 3600.0
