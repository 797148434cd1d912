"""Rate limits counted in PostgreSQL: fixed windows, shared by every process on the database, a fixed
number of rows per check whatever the number of keys, and pruned once their window is gone."""

from __future__ import annotations

import json
import types
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from api.app import create_app
from api.core import ratelimit
from api.core.db import Database, make_engine
from api.core.errors import TooManyRequests
from api.core.ratelimit import Limit
from api.core.settings import Settings
from tests.assertions import assert_error_shape
from tests.conftest import serving
from tests.factories import centre, make_city, resident

PER_MINUTE = Limit("t", 3, 60, "tries", "lượt thử", shards=4)


def report() -> dict[str, object]:
    lat, lng = centre("W2")
    return {"category": "ngap-nuoc", "description": "Đường ngập sâu", "lat": lat, "lng": lng}


def clock(monkeypatch: pytest.MonkeyPatch, at: list[float]) -> None:
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: at[0]))


async def test_limit_applies_within_the_window_and_lifts_after_it(
    fresh_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = [6000.0 + 10]  # 10 s into a minute's window
    clock(monkeypatch, at)
    db = Database(make_engine(fresh_db, pool_size=1, max_overflow=0))
    try:
        for _ in range(3):
            async with db.session() as s:
                await ratelimit.admit(s, [(PER_MINUTE, "a")])
        async with db.session() as s:
            with pytest.raises(TooManyRequests) as refused:
                await ratelimit.admit(s, [(PER_MINUTE, "a")])
        assert refused.value.headers == {"Retry-After": "50"}  # until the window ends
        async with db.session() as s:
            await ratelimit.admit(s, [(PER_MINUTE, "b")])  # other keys are not affected
        at[0] = 6060.0 + 1  # the next window
        async with db.session() as s:
            await ratelimit.admit(s, [(PER_MINUTE, "a")])
    finally:
        await db.dispose()


async def test_the_count_is_shared_by_two_app_instances(fresh_db: str, settings: Settings) -> None:
    """Two apps (two processes' worth: each its own pool and state) over one database share the
    per-device report limit: the third report is refused whichever instance it reaches."""
    settings = settings.with_(report_rate_per_device_hour=2)
    one, two = create_app(settings, database_url=fresh_db), create_app(settings, database_url=fresh_db)
    async with serving(one) as a, serving(two) as b:
        async with one.state.db.session() as s:
            await make_city(await s.connection())
            await s.commit()
        me = (await resident(a)).headers
        assert (await a.post("/v1/reports", json=report(), headers=me)).status_code == 201
        assert (await b.post("/v1/reports", json=report(), headers=me)).status_code == 201
        for client in (a, b):
            r = await client.post("/v1/reports", json=report(), headers=me)
            assert_error_shape(r, 429, "rate_limited")
            assert int(r.headers["retry-after"]) > 0


async def test_a_check_touches_a_few_rows_whatever_the_number_of_keys(fresh_db: str) -> None:
    """With 200,000 keys counted this window, a hit reads its counter through the primary key (and
    its shards'), not the table: the plan has no sequential scan, and the hit stays a handful of
    buffers, about as many as with an empty table."""
    db = Database(make_engine(fresh_db, pool_size=1, max_overflow=0))
    at = ratelimit.now()
    params = ratelimit.hit_params([(PER_MINUTE, "someone")], at)
    explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + ratelimit.sql.HIT.sql

    async def buffers_of_one_hit() -> tuple[int, list[str]]:
        async with db.session() as s:
            conn = (await (await s.connection()).get_raw_connection()).driver_connection
            assert conn is not None
            found = await conn.fetchval(explain, *ratelimit.sql.HIT.args(params))
            plan = (json.loads(found) if isinstance(found, str) else found)[0]
            await s.rollback()
        nodes: list[str] = []

        def walk(node: dict[str, object]) -> None:
            nodes.append(f"{node['Node Type']} {node.get('Relation Name', '')}".strip())
            for child in node.get("Plans", []):  # type: ignore[attr-defined]
                walk(child)

        walk(plan["Plan"])
        top = plan["Plan"]
        return int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"]), nodes

    try:
        empty, _ = await buffers_of_one_hit()
        async with db.session() as s:
            await s.execute(
                text(
                    "INSERT INTO rate_counters (key, window_start, shard, hits, expires_at) "
                    "SELECT 't:k' || i, :w, 0, 1, now() + interval '1 minute' FROM generate_series(1, 200000) i"
                ),
                {"w": params["rate_windows"][0]},
            )
            await s.execute(text("ANALYZE rate_counters"))
            pages = (await s.execute(text("SELECT pg_relation_size('rate_counters') / 8192"))).scalar_one()
            await s.commit()
        full, nodes = await buffers_of_one_hit()
        assert not any(n.startswith("Seq Scan rate_counters") for n in nodes), nodes
        # an index level or two more than with an empty table, not the table's pages
        assert full <= 3 * empty < pages / 10, (empty, full, pages)
    finally:
        await db.dispose()


async def test_counters_of_past_windows_are_pruned_in_batches(fresh_db: str) -> None:
    db = Database(make_engine(fresh_db, pool_size=1, max_overflow=0))
    past = datetime.now(UTC) - timedelta(minutes=5)
    try:
        async with db.session() as s:
            await s.execute(
                text(
                    "INSERT INTO rate_counters (key, window_start, shard, hits, expires_at) "
                    "SELECT 'old:' || i, 0, 0, 1, :past FROM generate_series(1, 25) i"
                ),
                {"past": past},
            )
            await s.commit()
            await ratelimit.admit(s, [(PER_MINUTE, "current")])
        async with db.session() as s:
            assert await ratelimit.prune(s, batch=10) == 10
            assert await ratelimit.prune(s, batch=100) == 15
            assert await ratelimit.prune(s, batch=100) == 0
            left = (await s.execute(text("SELECT key FROM rate_counters"))).scalars().all()
        assert left == ["t:current"]
    finally:
        await db.dispose()
