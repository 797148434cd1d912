"""`Database(sessions_at_once=N)`: at most N sessions at a time, the others let in by arrival order.

SQLAlchemy's own pool hands a returned connection to whichever task asks next: a request arriving just
then takes it and one that was waiting goes to the back of the queue again (under overload in
bench/submit.py some requests waited ten times the median). The turns are taken before the pool.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from api.core.db import Database, make_engine


async def test_sessions_beyond_the_limit_wait_their_turn_in_arrival_order(fresh_db: str) -> None:
    db = Database(make_engine(fresh_db, pool_size=2, max_overflow=0), sessions_at_once=2)
    let_in: list[int] = []
    inside = most_inside = 0

    async def request(i: int) -> None:
        nonlocal inside, most_inside
        async with db.session() as s:
            let_in.append(i)
            inside += 1
            most_inside = max(most_inside, inside)
            await s.execute(text("SELECT 1"))
            await asyncio.sleep(0.004)
            inside -= 1

    try:
        tasks = []
        for i in range(40):  # a new request every millisecond, each holding its session 4 ms
            tasks.append(asyncio.create_task(request(i)))
            await asyncio.sleep(0.001)
        await asyncio.gather(*tasks)
    finally:
        await db.dispose()
    assert most_inside == 2
    assert let_in == list(range(40))
