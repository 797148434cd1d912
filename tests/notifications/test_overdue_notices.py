"""Leaders told when a case in their area passes a deadline: once, to the leaders in scope (inbox, and
push to their devices), under two workers at once too."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

import push
from api.core.db import Database, make_engine
from api.core.settings import Settings
from api.notifications.jobs import overdue_notices
from tests.factories import insert_report, make_city, staff


async def told(db: AsyncConnection | AsyncSession, user: uuid.UUID) -> list[tuple[str, str, str]]:
    rows = await db.execute(
        text(
            "SELECT report_code, kind, body_vi FROM notifications WHERE user_id = :u "
            "ORDER BY report_code, kind"
        ),
        {"u": user},
    )
    return [tuple(r) for r in rows]


async def test_overdue_notice_once_to_the_leaders_in_scope(
    db_conn: AsyncConnection, session: AsyncSession, database: Database, settings: Settings
) -> None:
    await make_city(db_conn)
    city_leader, _ = await staff(db_conn, "leader", ["T1"])
    w1_leader, _ = await staff(db_conn, "leader", ["W1"])
    w2_leader, _ = await staff(db_conn, "leader", ["W2"])
    w1_officer, _ = await staff(db_conn, "officer", ["W1"])
    await push.register_device(
        session, user_id=w1_leader, token="tok-leader", platform="android", locale="vi"
    )
    await session.commit()
    now = datetime.now(UTC)
    h = timedelta(hours=1)
    not_acked = await insert_report(db_conn, "W1", ack_due_at=now - h, resolve_due_at=now + 48 * h)
    not_resolved = await insert_report(
        db_conn, "W1", status="in_progress", ack_due_at=now - 9 * h, resolve_due_at=now - 2 * h
    )
    on_time = await insert_report(db_conn, "W2", ack_due_at=now + h, resolve_due_at=now + 48 * h)
    long_ago = await insert_report(  # before the window: not told about (a first start tells no backlog)
        db_conn, "W1", status="in_progress", resolve_due_at=now - timedelta(days=5)
    )
    done = await insert_report(db_conn, "W1", status="resolved", resolve_due_at=now - h)
    paused = await insert_report(db_conn, "W1", status="on_hold", resolve_due_at=now - h)  # clock paused

    assert await overdue_notices(database, settings) == 2
    assert await overdue_notices(database, settings) == 0  # once

    expected = sorted(
        [
            (not_acked.code, "leader_ack_overdue"),
            (not_resolved.code, "leader_resolve_overdue"),
        ]
    )
    for leader in (city_leader, w1_leader):
        got = await told(session, leader)
        assert [(c, k) for c, k, _ in got] == expected
        assert all("Phường Một" in body for _, _, body in got)
    assert await told(session, w2_leader) == []  # not their ward
    assert await told(session, w1_officer) == []  # officers have their own deadline warnings
    codes = {c for c, _, _ in await told(session, city_leader)}
    assert not codes & {on_time.code, long_ago.code, done.code, paused.code}
    # the leader with a device gets a push for each, through the outbox
    pushes = await session.scalar(
        text("SELECT count(*) FROM push_outbox WHERE token = 'tok-leader'"),
    )
    assert pushes == 2
    recorded = await session.execute(
        text("SELECT report_id, deadline, recipients FROM report_overdue_notices ORDER BY deadline")
    )
    assert [tuple(r) for r in recorded] == [(not_acked.id, "ack", 2), (not_resolved.id, "resolve", 2)]

    # acknowledged late, then its resolve deadline passes too: told about that deadline, once
    await session.execute(
        text("UPDATE reports SET status = 'acknowledged', resolve_due_at = :due WHERE id = :r"),
        {"due": now - timedelta(minutes=1), "r": not_acked.id},
    )
    await session.commit()
    assert await overdue_notices(database, settings) == 1
    assert await overdue_notices(database, settings) == 0
    assert len(await told(session, w1_leader)) == 3


async def test_two_workers_tell_once(settings: Settings, fresh_db: str) -> None:
    """Two worker processes' steps at the same moment, each on its own pool: every notice once."""
    engine = make_engine(fresh_db, pool_size=2, max_overflow=0)
    engines = [make_engine(fresh_db, pool_size=1, max_overflow=0) for _ in range(2)]
    try:
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await make_city(conn)
            leader, _ = await staff(conn, "leader", ["T1"])
            cases = [
                await insert_report(
                    conn, ("W1", "W2", "W3")[i % 3], ack_due_at=now - timedelta(minutes=i + 1)
                )
                for i in range(30)
            ]
        workers = [Database(e) for e in engines]
        told_in_all = 0
        for _ in range(20):  # both read the same oldest candidates; each round, each is told once
            counts = await asyncio.gather(*(overdue_notices(w, settings, batch=7) for w in workers))
            told_in_all += sum(counts)
            if sum(counts) == 0:
                break
        assert told_in_all == len(cases)
        async with engine.connect() as conn:
            per_case = await conn.execute(
                text("SELECT report_code, count(*) FROM notifications WHERE user_id = :u GROUP BY 1"),
                {"u": leader},
            )
            assert {code: n for code, n in per_case} == {c.code: 1 for c in cases}
    finally:
        for e in (engine, *engines):
            await e.dispose()
