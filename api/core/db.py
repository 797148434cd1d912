"""Database engine and sessions.

One `Database` per process. Services take an `AsyncSession` and commit their own unit of work;
tests hand the app a `Database` bound to one connection whose outer transaction is rolled back
(commits become savepoint releases), which keeps every test isolated and fast.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import Connection, event, select, text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from api.core.overload import classify, service_busy


def async_url(url: str) -> str:
    """postgresql://… → postgresql+asyncpg://… (users write the plain form)."""
    u = make_url(url.replace("postgres://", "postgresql://", 1))
    return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def plain_url(url: str) -> str:
    """postgresql+asyncpg://… → postgresql://… (for asyncpg.connect and psql)."""
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Bounds on the database's side, in milliseconds (0: none). `statement_ms`, `lock_ms` and
    `idle_in_transaction_ms` go on every connection, with its start-up packet (no round trip): the
    request path's. The long roles (exports, the worker) raise theirs on their own transactions."""

    statement_ms: int = 0
    lock_ms: int = 0
    idle_in_transaction_ms: int = 0
    long_statement_ms: int = 0
    long_lock_ms: int = 0
    pool_wait_s: float = 30.0  # the longest wait for a session's turn or a pooled connection
    retry_after_s: int = 2

    @classmethod
    def of(cls, settings: Any) -> Timeouts:
        return cls(
            settings.db_statement_timeout_ms,
            settings.db_lock_timeout_ms,
            settings.db_idle_in_transaction_timeout_ms,
            settings.db_long_statement_timeout_ms,
            settings.db_long_lock_timeout_ms,
            settings.db_pool_wait_s,
            settings.db_retry_after_s,
        )

    def server_settings(self) -> dict[str, str]:
        return {
            "statement_timeout": str(self.statement_ms),
            "lock_timeout": str(self.lock_ms),
            "idle_in_transaction_session_timeout": str(self.idle_in_transaction_ms),
        }

    def long_params(self) -> dict[str, str]:
        return {"statement_timeout": str(self.long_statement_ms), "lock_timeout": str(self.long_lock_ms)}


NO_TIMEOUTS = Timeouts()


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    timeouts: Timeouts = NO_TIMEOUTS,
    **kw: Any,
) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        pool_timeout=timeouts.pool_wait_s,
        # server-side settings every connection needs: UTC everywhere, bounded statements
        connect_args={
            "timeout": 5,
            "server_settings": {
                "timezone": "UTC",
                "application_name": "phananh",
                **timeouts.server_settings(),
            },
        },
        **kw,
    )
    event.listen(engine.sync_engine, "handle_error", _broken_is_disconnect)
    return engine


def _broken_is_disconnect(context: Any) -> None:
    """A connection left mid-operation when its server went away answers every later statement with
    asyncpg's InternalClientError ("another operation is in progress"), which SQLAlchemy does not take
    for a disconnect: it would go back to the pool and fail again after the server is back. Taken for
    one, it is thrown away (and the pool's other connections of before with it). So is one whose
    asyncpg says it is in a state it cannot use (InterfaceError)."""
    cause = context.original_exception
    if isinstance(cause, context.dialect.dbapi.InterfaceError):
        context.is_disconnect = True
    for e in (cause, getattr(cause, "__cause__", None)):
        if isinstance(e, asyncpg.exceptions.InterfaceError | asyncpg.exceptions.InternalClientError):
            context.is_disconnect = True


def _lost(exc: BaseException) -> bool:
    found = classify(exc)
    return found is not None and found[0] == "unavailable"


# Sessions opened while this is true (the worker's task sets it) take the long role's bounds.
LONG_ROLE: ContextVar[bool] = ContextVar("long_role", default=False)


class _Session(Session):
    """The sessions of a `Database`: a long one raises its bounds as its transaction begins."""


@event.listens_for(_Session, "after_begin")
def _raise_bounds(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    params = session.info.get("long_params")
    if params is not None and transaction.parent is None:
        from api.core import sql  # its statements are `Sql`s of this module

        connection.execute(sql.RAISE_BOUNDS, params)


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
        timeouts: Timeouts = NO_TIMEOUTS,
    ) -> None:
        self.engine = engine
        self.bind = bind
        self.timeouts = timeouts
        self._turns = asyncio.Semaphore(sessions_at_once) if sessions_at_once else None
        self._driver_turns = asyncio.Semaphore(max(1, drivers_at_once))
        self._drivers: list[PoolProxiedConnection] = []
        self.waiting = 0  # tasks waiting for a session's turn
        if bind is not None:
            self.sessions = async_sessionmaker(
                bind=bind,
                expire_on_commit=False,
                join_transaction_mode="create_savepoint",
                sync_session_class=_Session,
            )
        else:
            self.sessions = async_sessionmaker(
                bind=engine, expire_on_commit=False, sync_session_class=_Session
            )

    async def _wait(self, turns: asyncio.Semaphore, what: str) -> None:
        """A turn within the pool wait, or 503 `service_busy`."""
        if not turns.locked():
            await turns.acquire()
            return
        self.waiting += 1
        try:
            await asyncio.wait_for(turns.acquire(), self.timeouts.pool_wait_s)
        except TimeoutError:
            raise service_busy(self.timeouts.retry_after_s, what) from None
        finally:
            self.waiting -= 1

    @property
    def saturated(self) -> bool:
        """Every session is taken and someone waits for one."""
        return self._turns is not None and self._turns.locked() and self.waiting > 0

    def _long_params(self, long: bool | None) -> dict[str, str] | None:
        if long is None:
            long = LONG_ROLE.get()
        return self.timeouts.long_params() if long and self.bind is None else None

    @asynccontextmanager
    async def session(self, *, long: bool | None = None) -> AsyncIterator[AsyncSession]:
        """A session; `long`: with the long role's bounds (default: `LONG_ROLE`). A session's turn is
        waited for no longer than the pool wait, then the request is answered 503 `service_busy`."""
        params = self._long_params(long)
        info = {} if params is None else {"long_params": params}
        if self._turns is None:
            async with self.sessions(info=info) as s:
                yield s
            return
        await self._wait(self._turns, "pool")
        try:
            async with self.sessions(info=info) as s:
                try:
                    yield s
                except Exception as exc:
                    # a failure on the connection (perhaps in a statement sent straight to asyncpg,
                    # which SQLAlchemy never saw): the connection is not given back to the pool
                    if _lost(exc):
                        await s.invalidate()
                    raise
        finally:
            self._turns.release()

    @asynccontextmanager
    async def connect(self, *, long: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection for read-only paths that do not need an ORM session; `long`: with the long
        role's bounds, on the transaction it begins."""
        if self.bind is not None:
            yield self.bind
            return
        async with self.engine.connect() as conn:
            if long:
                from api.core import sql

                await conn.execute(sql.RAISE_BOUNDS, self.timeouts.long_params())
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
        await self._wait(self._driver_turns, "lookup_connections")
        try:
            pooled = self._drivers.pop() if self._drivers else await self.engine.raw_connection()
            driver: asyncpg.Connection = pooled.driver_connection
            try:
                yield driver
            except BaseException:  # perhaps mid-statement (a cancelled request): not reused
                await greenlet_spawn(pooled.invalidate)
                raise
            self._drivers.append(pooled)
        finally:
            self._driver_turns.release()

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
