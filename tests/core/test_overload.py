"""Failing fast: a stuck table, a database gone away or crashed under load, a flood of sign-ins.

The lock and outage tests replay what was seen before the bounds existed: with another session holding
a lock on `reports`, every report request waited as long as the lock was held and the other endpoints
waited for a pool slot; with the database stopped, every request was a 500 with a traceback in the log.
The outage and crash tests use a cluster of their own (`throwaway_cluster`), never the shared server.
Every wait is bounded (`asyncio.wait_for`, loops with deadlines); no test asserts a duration.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from api.app import create_app, with_fast_paths
from api.core.db import LONG_ROLE, Database, Timeouts, make_engine, plain_url
from api.core.overload import Gate, classify
from api.core.settings import Settings
from tests.assertions import assert_error_shape
from tests.conftest import serving
from tests.factories import centre, make_city, resident, staff
from tests.support.database import (
    crash,
    create_migrated_database,
    throwaway_cluster,
    unique_name,
)

LAT, LNG = centre("W2")


def report(**kw: object) -> dict[str, object]:
    return {"category": "ngap-nuoc", "description": "Đường ngập sâu", "lat": LAT, "lng": LNG, **kw}


async def seed_city(url: str) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await make_city(conn)
    finally:
        await engine.dispose()


async def eventually(condition: Callable[[], bool], within_s: float = 30) -> None:
    """Wait until `condition` holds (bounded)."""
    for _ in range(int(within_s * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition did not come about in time")


def bounded(settings: Settings, **kw: object) -> Settings:
    defaults: dict[str, object] = {
        "db_pool_size": 2,
        "db_lock_timeout_ms": 200,
        "db_statement_timeout_ms": 2000,
        "db_pool_wait_s": 2.0,
        "db_retry_after_s": 3,
    }
    return settings.with_(**(defaults | kw))


async def test_a_lock_held_on_reports_leaves_other_endpoints_answering(
    settings: Settings, fresh_db: str
) -> None:
    """Report requests give up on the lock after the lock timeout (503 `service_busy`, Retry-After)
    and hand their session on; the categories and the ward lookup are answered while it is held."""
    await seed_city(fresh_db)
    app = create_app(bounded(settings), database_url=fresh_db)
    async with serving(app, fast=with_fast_paths(app)) as client:
        me = (await resident(client)).headers
        holder = await asyncpg.connect(plain_url(fresh_db))
        try:
            tx = holder.transaction()
            await tx.start()
            await holder.execute("LOCK TABLE reports IN ACCESS EXCLUSIVE MODE")
            flood = [client.get("/v1/reports") for _ in range(6)] + [
                client.post("/v1/reports", json=report(), headers=me) for _ in range(2)
            ]
            others = [
                client.get("/v1/categories"),
                client.get("/v1/areas/lookup", params={"lat": LAT, "lng": LNG}),
            ]
            answers = await asyncio.wait_for(asyncio.gather(*flood, *others), 60)
            # all of them answered while the lock is still held
            assert (
                await holder.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' AND relation = 'reports'::regclass"
                )
                == 1
            )
            for r in answers[: len(flood)]:
                assert_error_shape(r, 503, "service_busy")
                assert r.headers["retry-after"] == "3"
            assert [r.status_code for r in answers[len(flood) :]] == [200, 200]
            assert (await client.get("/ready")).status_code == 200  # the database answers
        finally:
            await holder.close()
        # the lock gone, the reports are served again
        assert (await client.get("/v1/reports")).status_code == 200
        assert (await client.post("/v1/reports", json=report(), headers=me)).status_code == 201


async def test_the_pool_wait_is_bounded_and_ready_says_saturated(settings: Settings, fresh_db: str) -> None:
    """Every session taken by statements that wait on the lock: a request past the pool wait gets 503
    `service_busy`, and /ready answers 503 while requests wait for a session."""
    await seed_city(fresh_db)
    app = create_app(
        bounded(settings, db_pool_size=1, db_lock_timeout_ms=1500, db_pool_wait_s=0.3), database_url=fresh_db
    )
    async with serving(app) as client:
        holder = await asyncpg.connect(plain_url(fresh_db))
        try:
            tx = holder.transaction()
            await tx.start()
            await holder.execute("LOCK TABLE reports IN ACCESS EXCLUSIVE MODE")
            stuck = asyncio.ensure_future(client.get("/v1/reports"))  # takes the only session, waits
            await eventually(lambda: app.state.db.waiting == 0 and app.state.db._turns.locked())
            waiter = asyncio.ensure_future(client.get("/v1/categories"))
            await eventually(lambda: app.state.db.saturated or waiter.done())
            ready = await client.get("/ready")
            late = await asyncio.wait_for(waiter, 30)
            assert_error_shape(ready, 503, "not_ready")
            assert ready.json()["error"]["details"] == {"reason": "pool_saturated"}
            assert_error_shape(late, 503, "service_busy")
            assert late.json()["error"]["details"]["reason"] == "pool"
            assert_error_shape(await asyncio.wait_for(stuck, 30), 503, "service_busy")
        finally:
            await holder.close()
        assert (await client.get("/ready")).status_code == 200


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def own_database() -> AsyncIterator[tuple[object, str]]:
    """A migrated database on a cluster of this test's own, with the test city."""
    with throwaway_cluster() as cluster:
        url = await create_migrated_database(cluster.admin_url(), unique_name("phananh_fault"))
        await seed_city(url)
        yield cluster, url


async def test_a_stopped_database_is_a_quick_503_with_a_quiet_log_and_recovers(
    settings: Settings, own_database: tuple[object, str]
) -> None:
    cluster, url = own_database
    app = create_app(bounded(settings), database_url=url)
    lines = Lines()
    logging.getLogger().addHandler(lines)
    try:
        async with serving(app, fast=with_fast_paths(app)) as client:
            me = (await resident(client)).headers
            assert (await client.post("/v1/reports", json=report(), headers=me)).status_code == 201
            await asyncio.to_thread(cluster.stop)  # type: ignore[attr-defined]
            lines.records.clear()
            answers: list[httpx.Response] = []
            for _ in range(20):
                answers += await asyncio.wait_for(
                    asyncio.gather(
                        client.get("/v1/categories"),
                        client.get("/v1/reports"),
                        client.get("/v1/areas/lookup", params={"lat": LAT, "lng": LNG}),
                        client.post("/v1/reports", json=report(), headers=me),
                    ),
                    60,
                )
            for r in answers:
                assert_error_shape(r, 503, "database_unavailable")
                assert r.headers["retry-after"] == "3"
            ready = await client.get("/ready")
            assert_error_shape(ready, 503, "not_ready")
            assert "retry-after" in ready.headers
            # 80 failed requests: a few lines (one per kind of failure every few seconds), no traceback
            ours = [r for r in lines.records if r.levelno >= logging.WARNING]
            assert len(ours) <= 6, [r.getMessage() for r in ours]
            assert not any(r.exc_info for r in lines.records)
            # back again: answered without restarting the app
            await asyncio.to_thread(cluster.start)  # type: ignore[attr-defined]
            statuses = await until_served(client, me)
            assert statuses[-1] == 201
    finally:
        logging.getLogger().removeHandler(lines)


async def until_served(client: httpx.AsyncClient, me: dict[str, str], within_s: float = 30) -> list[int]:
    """Submit until one is created (503s meanwhile); the statuses seen."""
    seen: list[int] = []
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        r = await client.post("/v1/reports", json=report(), headers=me)
        seen.append(r.status_code)
        if r.status_code == 201:
            return seen
        assert r.status_code == 503, r.text
        await asyncio.sleep(0.1)
    raise AssertionError(f"not served again within {within_s} s: {Counter(seen)}")


async def test_a_crash_of_the_database_under_load_loses_no_acknowledged_report(
    settings: Settings, own_database: tuple[object, str]
) -> None:
    """`kill -9` of the postmaster (and its processes) while 8 clients submit: 503s while it is down,
    every 201 is in the database after its restart, and the app serves again without a restart."""
    cluster, url = own_database
    app = create_app(bounded(settings, db_pool_size=4), database_url=url)
    created: list[str] = []
    statuses: Counter[int] = Counter()
    reasons: Counter[str] = Counter()
    async with serving(app, fast=with_fast_paths(app)) as client:
        people = [(await resident(client)).headers for _ in range(8)]
        phase = {"crashed": False, "served_after": 0}

        async def submitter(me: dict[str, str]) -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and phase["served_after"] < 20:
                r = await client.post(
                    "/v1/reports", json=report(), headers=me | {"Idempotency-Key": uuid.uuid4().hex}
                )
                statuses[r.status_code] += 1
                if r.status_code == 201:
                    created.append(r.json()["code"])
                    if phase["crashed"]:
                        phase["served_after"] += 1
                else:
                    assert r.status_code == 503, r.text
                    if phase["crashed"]:
                        reasons[r.json()["error"]["code"] + str(r.json()["error"]["details"])] += 1
                    await asyncio.sleep(0.05)

        load = [asyncio.ensure_future(submitter(me)) for me in people]
        await eventually(lambda: len(created) >= 30, within_s=60)
        await asyncio.to_thread(crash, cluster)  # type: ignore[arg-type]
        await asyncio.sleep(1.0)  # down for a while, under load
        await asyncio.to_thread(cluster.start)  # type: ignore[attr-defined]
        phase["crashed"] = True
        await asyncio.wait_for(asyncio.gather(*load), 90)
    assert statuses[503] > 0 and phase["served_after"] >= 20, (statuses, reasons)
    assert set(statuses) <= {201, 503}, statuses
    conn = await asyncpg.connect(plain_url(url))
    try:
        stored = {r["code"] for r in await conn.fetch("SELECT code FROM reports")}
    finally:
        await conn.close()
    assert set(created) <= stored, set(created) - stored


async def test_a_full_gate_refuses_at_once() -> None:
    gate = Gate("password_hashing", 1, 1, wait_s=30)
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.turn():
            await release.wait()

    holder = asyncio.ensure_future(hold())
    await asyncio.sleep(0)
    queued = asyncio.ensure_future(hold())
    for _ in range(3):
        await asyncio.sleep(0)
    assert (gate.inside, gate.waiting) == (1, 1)
    with pytest.raises(Exception) as refused:
        async with gate.turn():
            pass
    assert getattr(refused.value, "code", None) == "service_busy"
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, queued), 5)
    assert (gate.inside, gate.waiting) == (0, 0)


async def test_a_sign_in_flood_is_refused_quickly_and_leaves_lookups_alone(
    settings: Settings, fresh_db: str
) -> None:
    """Sign-ins beyond the hashing gate's turns and queue get 503 `service_busy` at once (before any
    statement), the ones admitted are checked, and a lookup and the categories are answered meanwhile."""
    await seed_city(fresh_db)
    engine = make_engine(fresh_db, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await staff(conn, "officer", ["W1"], username="flooded", password="the right password")
    finally:
        await engine.dispose()
    app = create_app(settings.with_(hash_concurrency=1, hash_queue=1), database_url=fresh_db)
    async with serving(app, fast=with_fast_paths(app)) as client:
        body = {"username": "flooded", "password": "a wrong password"}
        flood = [asyncio.ensure_future(client.post("/v1/auth/login", json=body)) for _ in range(8)]
        await eventually(lambda: sum(f.done() for f in flood) >= 6)  # the refused ones, at once
        lookup = await client.get("/v1/areas/lookup", params={"lat": LAT, "lng": LNG})
        categories = await client.get("/v1/categories")
        answers = await asyncio.wait_for(asyncio.gather(*flood), 120)
    assert (lookup.status_code, categories.status_code) == (200, 200)
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {503: 6, 401: 2}, statuses
    for r in answers:
        if r.status_code == 503:
            assert_error_shape(r, 503, "service_busy")
            assert r.json()["error"]["details"]["reason"] == "password_hashing"
            assert "retry-after" in r.headers


async def test_an_export_turn_is_given_back_when_its_stream_is_dropped_unread() -> None:
    """Exports do not queue: a second is refused while the first holds the turn; a stream that is
    never read (the client went away before the body) gives its turn back when it is dropped."""
    gate = Gate("exports", 1, 0)
    first = await gate.ticket()
    with pytest.raises(Exception) as refused:
        await gate.ticket()
    assert getattr(refused.value, "code", None) == "service_busy"
    del first  # never closed: dropped
    second = await gate.ticket()
    second.close()
    second.close()  # once only
    assert gate.inside == 0


async def test_the_request_path_and_the_long_role_have_their_own_bounds(fresh_db: str) -> None:
    """A request's statement is cancelled past its timeout (a `service_busy` failure); an export's or
    a worker step's transaction runs under the long role's bound; the next request's is short again."""
    timeouts = Timeouts(statement_ms=150, lock_ms=100, long_statement_ms=60_000, long_lock_ms=5_000)
    db = Database(
        make_engine(fresh_db, pool_size=1, max_overflow=0, timeouts=timeouts),
        sessions_at_once=1,
        timeouts=timeouts,
    )
    show = text("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
    try:
        async with db.session() as s:
            assert (await s.execute(show)).one() == ("150ms", "100ms")
            with pytest.raises(Exception) as cancelled:
                await s.execute(text("SELECT pg_sleep(0.5)"))
        assert classify(cancelled.value) == ("busy", "statement_timeout")
        async with db.session(long=True) as s:
            assert (await s.execute(show)).one() == ("1min", "5s")
            await s.execute(text("SELECT pg_sleep(0.3)"))
        token = LONG_ROLE.set(True)  # as the worker's task does
        try:
            async with db.session() as s:
                assert (await s.execute(show)).one() == ("1min", "5s")
        finally:
            LONG_ROLE.reset(token)
        async with db.connect(long=True) as conn:
            assert (await conn.execute(show)).one() == ("1min", "5s")
        async with db.session() as s:  # the same connection, the short bounds again
            assert (await s.execute(show)).one() == ("150ms", "100ms")
    finally:
        await db.dispose()
