"""Case changes announced to the API processes after they commit, not before, not when rolled back."""

from __future__ import annotations

import asyncio
import json

import asyncpg

from api.core.db import Database, make_engine, plain_url
from api.notifications.announce import CHANNEL
from api.reports.events import append_event
from tests.factories import insert_report, make_city, staff


async def test_announced_at_commit_only(fresh_db: str) -> None:
    engine = make_engine(fresh_db, pool_size=2, max_overflow=0)
    heard: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    listener = await asyncpg.connect(plain_url(fresh_db))
    try:
        await listener.add_listener(CHANNEL, lambda *args: heard.put_nowait(json.loads(args[-1])))
        async with engine.begin() as conn:
            await make_city(conn)
            officer, _ = await staff(conn, "officer", ["W1"])
            report = await insert_report(conn, "W1")
        db = Database(engine)
        async with db.session() as session:
            await append_event(session, report.id, "commented", actor_id=officer, public_message="một")
            await asyncio.sleep(0.3)
            assert heard.empty()  # not before the commit
            await session.rollback()
            await append_event(session, report.id, "commented", actor_id=officer, public_message="hai")
            await session.commit()
        got = await asyncio.wait_for(heard.get(), 10)
        assert (got["code"], got["event"], got["ward"], got["status"]) == (
            report.code,
            "commented",
            "W1",
            "new",
        )
        await asyncio.sleep(0.5)
        assert heard.empty()  # the rolled-back one never was
    finally:
        await listener.close()
        await engine.dispose()
