"""Database engine and sessions.

One `Database` per process. Services take an `AsyncSession` and commit their own unit of work;
tests hand the app a `Database` bound to one connection whose outer transaction is rolled back
(commits become savepoint releases), which keeps every test isolated and fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn


def async_url(url: str) -> str:
    """postgresql://… → postgresql+asyncpg://… (users write the plain form)."""
    u = make_url(url.replace("postgres://", "postgresql://", 1))
    return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def plain_url(url: str) -> str:
    """postgresql+asyncpg://… → postgresql://… (for asyncpg.connect and psql)."""
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10, **kw: Any) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        # server-side settings every connection needs: UTC everywhere, bounded statements
        connect_args={"timeout": 5, "server_settings": {"timezone": "UTC", "application_name": "phananh"}},
        **kw,
    )


class Database:
    """Engine plus session factory. `bind` pins every session to one connection (tests).

    With `sessions_at_once`, at most that many `session()`s are open at a time and the others wait
    their turn, first come first served: SQLAlchemy's pool hands a returned connection to whichever
    task asks next, so under overload some requests lost their place again and again (p99 1.1 s
    against p50 0.1 s at 128 clients in bench/submit.py; 0.24 s with this queue). Size it to the
    pool. A task must not open a second `session()` while it holds one.

    `driver()` keeps up to `drivers_at_once` of the pool's connections checked out: size the pool
    for both.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        bind: AsyncConnection | None = None,
        sessions_at_once: int | None = None,
        drivers_at_once: int = 2,
    ) -> None:
        self.engine = engine
        self.bind = bind
        self._turns = asyncio.Semaphore(sessions_at_once) if sessions_at_once else None
        self._driver_turns = asyncio.Semaphore(max(1, drivers_at_once))
        self._drivers: list[PoolProxiedConnection] = []
        if bind is not None:
            self.sessions = async_sessionmaker(
                bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        else:
            self.sessions = async_sessionmaker(bind=engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._turns or contextlib.nullcontext(), self.sessions() as s:
            yield s

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for read-only hot paths that do not need an ORM session."""
        if self.bind is not None:
            yield self.bind
            return
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[asyncpg.Connection]:
        """The asyncpg connection of one of the pool's connections, for a hot path's read-only
        statements outside any session (the ward lookup): no SQLAlchemy layers per statement, and
        the statements stay prepared on it.

        At most `drivers_at_once` at a time; the others wait their turn. The connections stay
        checked out between turns: borrowing from the pool and returning to it for every lookup
        cost more CPU than the rest of the lookup's Python in a served process. One that failed
        is dropped (the pool opens another); `dispose` returns the others.
        """
        if self.bind is not None:
            yield (await self.bind.get_raw_connection()).driver_connection
            return
        async with self._driver_turns:
            pooled = self._drivers.pop() if self._drivers else await self.engine.raw_connection()
            driver: asyncpg.Connection = pooled.driver_connection
            try:
                yield driver
            except BaseException:  # perhaps mid-statement (a cancelled request): not reused
                await greenlet_spawn(pooled.invalidate)
                raise
            self._drivers.append(pooled)

    async def ping(self, timeout_s: float = 3.0) -> None:
        async def _ping() -> None:
            async with self.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await asyncio.wait_for(_ping(), timeout_s)

    async def dispose(self) -> None:
        if self.bind is None:
            while self._drivers:
                await greenlet_spawn(self._drivers.pop().close)
            await self.engine.dispose()


async def raw_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`, inside the session's transaction, with the session's
    pending ORM changes flushed: hot paths run prepared statements on it (no SQLAlchemy compile and
    result layers per statement) and still commit or roll back with the session.

    SQLAlchemy's asyncpg adapter opens its transaction lazily at its first statement; a raw
    statement before that would run in autocommit, so the transaction is opened here. The answer is
    kept for the rest of the session's transaction (one submission asks several times).
    """
    if session.new or session.dirty or session.deleted:
        await session.flush()
    transaction = session.get_transaction()
    kept = session.info.get(_RAW)
    if kept is not None and transaction is not None and kept[0] is transaction:
        driver: asyncpg.Connection = kept[1]
        return driver
    fairy = await (await session.connection()).get_raw_connection()
    driver = fairy.driver_connection
    if not driver.is_in_transaction():
        adapter: Any = fairy.dbapi_connection
        await adapter._start_transaction()  # the adapter's own (lazy) begin
        if not driver.is_in_transaction():
            raise RuntimeError("could not open the session's transaction on its asyncpg connection")
    session.info[_RAW] = (session.get_transaction(), driver)
    return driver


_RAW = "phananh.raw_connection"
_json_encode = msgspec.json.Encoder().encode


def jsonb(value: Any) -> str:
    """A jsonb parameter for a statement on `raw_connection`: SQLAlchemy's asyncpg codec takes JSON text."""
    return _json_encode(value).decode()


_PARAM = re.compile(r"\$(\d+)")


def rebind(sql: str, *args: str) -> str:
    """`sql` with its parameters $1, $2… replaced by `args` (the larger statement's parameters or
    SQL expressions): one module's statement embedded in another's, so that a hot path can do in one
    round trip what several modules each define once."""
    return _PARAM.sub(lambda m: f"({args[int(m[1]) - 1]})", sql)
