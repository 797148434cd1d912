"""Failing fast under overload: the 503 answers, bounded queues, and a quiet log while the database is away.

A request that cannot be served soon (the pool is taken, a statement ran past its timeout, a lock
could not be had, the queue of dear work is full) gets 503 `service_busy`; one that finds the database
gone gets 503 `database_unavailable`. Both carry Retry-After, and neither writes a traceback: while the
database is away every request fails the same way, and one line per kind of failure every few seconds
says so (`FailureLog`), with how many more there were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import exc as sa_exc

from api.core.errors import AppError

log = logging.getLogger("phananh.overload")
T = TypeVar("T")


class ServiceBusy(AppError):
    status_code = 503
    code = "service_busy"


class DatabaseUnavailable(AppError):
    status_code = 503
    code = "database_unavailable"


def service_busy(retry_after_s: int, reason: str) -> ServiceBusy:
    return ServiceBusy(
        "The service is busy; try again shortly.",
        message_vi="Hệ thống đang bận, vui lòng thử lại sau giây lát.",
        details={"reason": reason, "retry_after_s": retry_after_s},
        headers={"Retry-After": str(retry_after_s)},
    )


def database_unavailable(retry_after_s: int) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        "The database cannot be reached; try again shortly.",
        message_vi="Tạm thời không kết nối được cơ sở dữ liệu, vui lòng thử lại sau giây lát.",
        details={"retry_after_s": retry_after_s},
        headers={"Retry-After": str(retry_after_s)},
    )


# SQLSTATEs of a statement or lock wait cut short by its timeout, or of a server out of connections
_BUSY_STATES = {
    "57014": "statement_timeout",  # query_canceled
    "55P03": "lock_timeout",  # lock_not_available
    "53300": "too_many_connections",
    "53400": "configuration_limit_exceeded",
}
# … and of a server going away or not there yet (class 08: connection exceptions)
_GONE_STATES = {"57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006", "08007"}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what SQLAlchemy wrapped (`orig`), and its causes."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend([getattr(e, "orig", None), e.__cause__, e.__context__])


def classify(exc: BaseException) -> tuple[str, str] | None:
    """("busy" | "unavailable", reason) for a failure of the database, None for anything else."""
    for e in _chain(exc):
        if isinstance(e, AppError):
            return None
        state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if state in _BUSY_STATES:
            return "busy", _BUSY_STATES[state]
        if state in _GONE_STATES:
            return "unavailable", type(e).__name__
        if isinstance(e, sa_exc.TimeoutError):  # the pool's own wait
            return "busy", "pool_timeout"
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return "unavailable", "connection_lost"
        if isinstance(
            e,
            asyncpg.PostgresConnectionError
            | asyncpg.exceptions.ConnectionDoesNotExistError
            | asyncpg.exceptions.InterfaceError
            | asyncpg.exceptions.InternalClientError  # a connection left mid-operation by a crash
            | ConnectionError,
        ):
            return "unavailable", type(e).__name__
        if isinstance(e, OSError) and not isinstance(e, TimeoutError):
            return "unavailable", type(e).__name__
        if isinstance(e, TimeoutError) and _connecting(e):
            return "unavailable", "connect_timeout"
    return None


def _connecting(exc: BaseException) -> bool:
    """A timeout raised while opening a connection (asyncpg's `connect(timeout=…)`)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in ("connect", "_connect", "_connect_addr", "__connect_addr"):
            return True
        tb = tb.tb_next
    return False


class FailureLog:
    """At most one line per kind of failure every `every_s` seconds, saying how many it stands for."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._since: dict[str, int] = {}

    def note(self, kind: str, reason: str, where: str) -> bool:
        """Count one failure; True when a line was written."""
        now = time.monotonic()
        self._since[kind] = self._since.get(kind, 0) + 1
        last = self._last.get(kind)
        if last is not None and now - last < self.every_s:
            return False
        count, self._since[kind] = self._since[kind], 0
        self._last[kind] = now
        log.warning(
            "database %s (%s) on %s; %d failure(s) of this kind since the last line",
            kind,
            reason,
            where,
            count,
            extra={"failure": kind, "reason": reason, "count": count},
        )
        return True


FAILURES = FailureLog()


def database_error(exc: BaseException, where: str, retry_after_s: int = 2) -> AppError | None:
    """The 503 for a database failure (logged, throttled), or None when `exc` is not one."""
    found = classify(exc)
    if found is None:
        return None
    kind, reason = found
    FAILURES.note(kind, reason, where)
    if kind == "busy":
        return service_busy(retry_after_s, reason)
    return database_unavailable(retry_after_s)


class Gate:
    """At most `concurrency` holders at once and `queue` more waiting, first come first served; one
    more is refused at once (503 `service_busy`), as is one that waited longer than `wait_s`."""

    def __init__(self, name: str, concurrency: int, queue: int, *, wait_s: float = 5.0) -> None:
        self.name = name
        self.concurrency, self.queue, self.wait_s = concurrency, queue, wait_s
        self._turns = asyncio.Semaphore(concurrency)
        self.waiting = 0
        self.inside = 0
        self._pool: ThreadPoolExecutor | None = None

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        await self.enter()
        try:
            yield
        finally:
            self.leave()

    def check_room(self) -> None:
        """503 now when a turn would be refused: for a caller with work to do before its turn."""
        if self._turns.locked() and self.waiting >= self.queue:
            raise service_busy(1, self.name)

    async def enter(self) -> None:
        if not self._turns.locked():
            await self._turns.acquire()  # free: returns at once
            self.inside += 1
            return
        if self.waiting >= self.queue:
            raise service_busy(1, self.name)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._turns.acquire(), self.wait_s)
        except TimeoutError:
            raise service_busy(1, self.name) from None
        finally:
            self.waiting -= 1
        self.inside += 1

    def leave(self) -> None:
        self.inside -= 1
        self._turns.release()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` at a turn, in this gate's own threads, which run at the lowest CPU priority
        (and so do the threads they start: argon2 computes its lanes in threads of its own): what
        they leave of the cores goes to the event loop first, so the other requests stay quick."""
        async with self.turn():
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.concurrency, thread_name_prefix=self.name, initializer=_lowest_priority
                )
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def ticket(self) -> Ticket:
        """A turn taken now without waiting (or 503), given back by `Ticket.close` or when the ticket is
        dropped: for a streamed answer whose body may never be read."""
        if self._turns.locked():
            raise service_busy(1, self.name)
        await self._turns.acquire()  # free: returns at once
        self.inside += 1
        return Ticket(self)


def _lowest_priority() -> None:
    # Linux: a thread's nice value is its own (setpriority on its thread id), inherited by the threads
    # it starts
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


class Ticket:
    __slots__ = ("gate",)

    def __init__(self, gate: Gate) -> None:
        self.gate: Gate | None = gate

    def close(self) -> None:
        gate, self.gate = self.gate, None
        if gate is not None:
            gate.leave()

    def __del__(self) -> None:
        self.close()


def gates(settings: Any) -> dict[str, Gate]:
    """The process's gates for dear work, from settings."""
    return {
        "hash_gate": Gate("password_hashing", settings.hash_concurrency, settings.hash_queue),
        "media_gate": Gate("media_checks", settings.media_concurrency, settings.media_queue),
        "export_gate": Gate("exports", settings.export_concurrency, 0),
    }
