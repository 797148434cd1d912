"""Database engine and sessions.

One `Database` per process. Services take an `AsyncSession` and commit their own unit of work;
tests hand the app a `Database` bound to one connection whose outer transaction is rolled back
(commits become savepoint releases), which keeps every test isolated and fast.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import Connection, select, text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
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
                await conn.execute(select(1))

        await asyncio.wait_for(_ping(), timeout_s)

    async def dispose(self) -> None:
        if self.bind is None:
            while self._drivers:
                await greenlet_spawn(self._drivers.pop().close)
            await self.engine.dispose()


class Sql:
    """A hand-written statement: a named constant of a domain's sql.py, with `:name` parameters as in
    `text()`. It is compiled once, at import, by SQLAlchemy's own compiler into asyncpg's `$1, $2…`
    with a fixed parameter order (`names`), so a name means what it means in `text()`, the same name
    is the same parameter, and statements embed one another by plain concatenation in their sql.py.

    `fetch`, `fetchrow` and `fetchval` run it on the session's own asyncpg connection, in the
    session's transaction: a prepared statement with no SQLAlchemy compile or result layers, which
    is what the hot paths need. Rows are asyncpg records (read them by column name).
    """

    __slots__ = ("names", "source", "sql")

    def __init__(self, source: str) -> None:
        compiled = text(source).compile(dialect=_DIALECT)
        self.source = source
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The statement's positional arguments, from `params` by name (every name is required)."""
        return tuple([params[name] for name in self.names])

    async def fetch(self, session: AsyncSession, params: Mapping[str, Any]) -> list[asyncpg.Record]:
        raw = await _raw(session)
        if raw.driver.is_in_transaction():
            return await raw.driver.fetch(self.sql, *self.args(params))
        return await raw.begin_with(self.sql, self.args(params))

    async def fetchrow(self, session: AsyncSession, params: Mapping[str, Any]) -> asyncpg.Record | None:
        raw = await _raw(session)
        if raw.driver.is_in_transaction():
            return await raw.driver.fetchrow(self.sql, *self.args(params))
        rows = await raw.begin_with(self.sql, self.args(params))
        return rows[0] if rows else None

    async def fetchval(self, session: AsyncSession, params: Mapping[str, Any]) -> Any:
        row = await self.fetchrow(session, params)
        return None if row is None else row[0]


_DIALECT = asyncpg_dialect.dialect()


@dataclass(frozen=True, slots=True)
class _Raw:
    transaction: Any  # the session's transaction these belong to
    conn: AsyncConnection
    driver: asyncpg.Connection

    async def begin_with(self, sql: str, args: tuple[Any, ...]) -> list[asyncpg.Record]:
        """Run the transaction's first statement. SQLAlchemy's asyncpg adapter begins the session's
        transaction lazily, at its own first statement; one sent straight to asyncpg before that would
        run outside it (autocommit). So the first goes through the adapter's DB-API cursor, which
        begins the transaction and then runs it: the same round trips, the same asyncpg records."""
        return await self.conn.run_sync(_through_cursor, sql, args)


def _through_cursor(conn: Connection, sql: str, args: tuple[Any, ...]) -> list[asyncpg.Record]:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


async def _raw(session: AsyncSession) -> _Raw:
    """The session's connection and the asyncpg connection under it, with the session's pending ORM
    changes flushed (a statement sees them). Kept for the rest of the session's transaction."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    transaction = session.get_transaction()
    kept: _Raw | None = session.info.get(_RAW)
    if kept is not None and transaction is not None and kept.transaction is transaction:
        return kept
    conn = await session.connection()
    driver: asyncpg.Connection = (await conn.get_raw_connection()).driver_connection
    kept = session.info[_RAW] = _Raw(session.get_transaction(), conn, driver)
    return kept


async def raw_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`, for code that takes one (geo's lineage cache), once the
    session's transaction has begun on it (after a statement); with its pending ORM changes flushed."""
    raw = await _raw(session)
    if not raw.driver.is_in_transaction():
        raise RuntimeError(
            "the session's transaction has not begun on its connection yet: run a statement first"
        )
    return raw.driver


_RAW = "phananh.raw"
_json_encode = msgspec.json.Encoder().encode


def jsonb(value: Any) -> str:
    """A jsonb parameter for a `Sql` statement: SQLAlchemy's asyncpg codec takes JSON text."""
    return _json_encode(value).decode()
