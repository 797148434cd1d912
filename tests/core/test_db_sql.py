"""`api.core.db.Sql`: hand-written statements on the session's own asyncpg connection, inside the
session's transaction, on a real pool (a fresh connection has no transaction open yet)."""

from __future__ import annotations

import uuid

from api.access.tokens import Principal
from api.core.db import Database, Sql, make_engine
from api.core.settings import Settings
from api.reports.schemas import ReportIn
from api.reports.service import submit
from geo import LineageCache
from tests.factories import centre, make_city
from tests.support.wire import counting_round_trips

_INSERT_USER = Sql("INSERT INTO users (id, role) VALUES (:id, 'resident') RETURNING id")
_USERS = Sql("SELECT count(*) FROM users WHERE id = ANY(CAST(:ids AS uuid[]))")


async def test_statements_run_in_the_sessions_transaction(fresh_db: str) -> None:
    db = Database(make_engine(fresh_db, pool_size=1, max_overflow=0))
    undone, kept = uuid.uuid4(), uuid.uuid4()
    try:
        async with db.session() as s:
            assert await _INSERT_USER.fetchval(s, {"id": undone}) == undone  # begins the transaction
            assert await _USERS.fetchval(s, {"ids": [undone]}) == 1  # straight on asyncpg, same transaction
            await s.rollback()
        async with db.session() as s:
            await _INSERT_USER.fetchval(s, {"id": kept})
            await s.commit()
        async with db.session() as s:
            assert await _USERS.fetchval(s, {"ids": [undone, kept]}) == 1
    finally:
        await db.dispose()


async def test_a_submission_is_four_round_trips(fresh_db: str, settings: Settings) -> None:
    """Begin, the statement that claims and reads, the statement that writes, commit (once its
    statements are prepared and the ward's lineage cached, and with nobody to tell)."""
    async with counting_round_trips(fresh_db) as (url, trips):
        db = Database(make_engine(url, pool_size=1, max_overflow=0))
        me = Principal(uuid.uuid4(), "resident")
        lat, lng = centre("W2")
        cache = LineageCache()
        try:
            async with db.session() as s:
                await make_city(await s.connection())
                await _INSERT_USER.fetchval(s, {"id": me.id})
                await s.commit()
            for i in range(3):
                before = trips.count
                async with db.session() as s:
                    outcome = await submit(
                        s,
                        settings,
                        me,
                        ReportIn("ngap-nuoc", "Đường ngập sâu", lat, lng),
                        idempotency_key=f"round-trips-{i}",
                        lineage_cache=cache,
                    )
                assert outcome.status_code == 201
            assert trips.count - before == 4
        finally:
            await db.dispose()
