"""Live case changes for the staff console: server-sent events of the cases in the caller's scope.

Every change of a case is announced on `phananh_cases` once it commits, by the process that made it
(api/notifications/announce.py). Each API process keeps one connection LISTENing on that channel
(`LiveCases`, opened with the first stream, reconnected after a failure) and hands each change, in
order, to the streams whose caller may see the case — the scope rule (`api.access.scope.in_scope`)
over the caller's grants, loaded when the stream opens, and the ward's lineage, read once per ward; a
case transferred away is shown to the ward it left too. So a change made through any process (an API
process, a worker) reaches every stream of every process.

A stream (`stream`) starts with `retry:` and an `event: ready`, then sends `event: case` with the
change as JSON (`id:` the event's id), a comment every `keepalive_s` so proxies keep it open, and ends
with `event: bye` when the process shuts down (`close_all`, called before the server waits for open
connections), when it has lived `max_age_s` (the access-token lifetime: the client asks for a new
ticket and reconnects), or after `event: resync` when it fell behind or the listener reconnected (changes
may have been missed: reload the queue). No history is kept: on `ready` a client loads the queue,
then applies the changes. At most `max_streams` streams per process; one more is 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from api.access.scope import Grants, in_scope, load_grants
from api.access.tokens import Principal
from api.casework import sql
from api.core.db import Database
from api.core.errors import AppError, Forbidden
from api.notifications.announce import CHANNEL

log = logging.getLogger("phananh.live")

QUEUE_SIZE = 256  # changes waiting for one slow stream before it is told to resync
INCOMING_SIZE = 10_000  # changes received, waiting to be handed out


class TooManyStreams(AppError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            "Too many live streams on this server; try again shortly.",
            message_vi="Máy chủ đang có quá nhiều kết nối trực tiếp; vui lòng thử lại sau.",
            code="too_many_streams",
            status_code=503,
            details={"limit": limit},
        )


class LiveUnavailable(AppError):
    def __init__(self) -> None:
        super().__init__(
            "Live updates are unavailable right now; reload the queue and try again shortly.",
            message_vi="Cập nhật trực tiếp tạm thời không khả dụng; vui lòng thử lại sau.",
            code="live_unavailable",
            status_code=503,
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One case change as announced (api.notifications.announce.payload), with its wards' lineages."""

    event: str
    event_id: str
    public: bool
    code: str
    status: str
    version: int
    ward: str | None
    agency: str | None
    from_ward: str | None
    lineage: tuple[str, ...] = ()
    from_lineage: tuple[str, ...] = ()

    def visible_to(self, grants: Grants) -> bool:
        return in_scope(grants, self.lineage, self.agency) or (
            bool(self.from_lineage) and in_scope(grants, self.from_lineage, None)
        )

    def sse(self) -> bytes:
        body = {
            "event": self.event,
            "code": self.code,
            "status": self.status,
            "version": self.version,
            "ward": self.ward,
            "agency": self.agency,
            "public": self.public,
            "from_ward": self.from_ward,
        }
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return f"id: {self.event_id}\nevent: case\ndata: {data}\n\n".encode()


def parse(payload: str) -> Change:
    m = json.loads(payload)
    return Change(
        event=str(m["event"]),
        event_id=str(m["event_id"]),
        public=bool(m.get("public", True)),
        code=str(m["code"]),
        status=str(m["status"]),
        version=int(m.get("version") or 0),
        ward=m.get("ward"),
        agency=m.get("agency"),
        from_ward=m.get("from_ward"),
    )


# What a stream's queue carries besides changes.
_BYE, _RESYNC = "bye", "resync"


@dataclass(eq=False, slots=True, weakref_slot=True)
class Subscriber:
    user_id: uuid.UUID
    grants: Grants
    queue: asyncio.Queue[Change | str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, item: Change | str) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # fell behind: drop what waits, tell it to reload (an end of stream is kept)
            ended = any(i == _BYE for i in _drain(self.queue))
            self.queue.put_nowait(_BYE if ended or item == _BYE else _RESYNC)


def _drain(queue: asyncio.Queue[Change | str]) -> list[Change | str]:
    out: list[Change | str] = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


_HUBS: weakref.WeakSet[LiveCases] = weakref.WeakSet()


def close_all() -> None:
    """End every stream of this process (the server is about to wait for open connections)."""
    for hub in list(_HUBS):
        hub.close_streams()


class LiveCases:
    """This process's streams and its one LISTEN connection (opened with the first stream)."""

    def __init__(self, url: str, *, max_streams: int, retry_s: float = 1.0, ping_s: float = 5.0) -> None:
        self.url, self.max_streams = url, max_streams
        self.retry_s, self.ping_s = retry_s, ping_s
        # weak: a stream whose response never started (its client left first) holds the only
        # reference to its subscription, which goes with it
        self.subscribers: weakref.WeakSet[Subscriber] = weakref.WeakSet()
        self.connections = 0
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._handing: asyncio.Task[None] | None = None
        self._incoming: asyncio.Queue[str | None] = asyncio.Queue(INCOMING_SIZE)
        self._lineages: dict[str, tuple[str, ...]] = {}  # ward → lineage (areas change only on import)
        self._querying = asyncio.Lock()  # one statement at a time on the connection
        self._starting = asyncio.Lock()
        self._closing = False
        _HUBS.add(self)

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._lost.is_set()

    async def subscribe(self, user_id: uuid.UUID, grants: Grants) -> Subscriber:
        """A new stream's subscription, listening before it returns (so a change committed after
        the stream's `ready` reaches it); 503 when the process has `max_streams` or is closing."""
        if self._closing:
            raise LiveUnavailable()
        if len(self.subscribers) >= self.max_streams:
            raise TooManyStreams(self.max_streams)
        await self._ensure_listening()
        sub = Subscriber(user_id, grants)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def close_streams(self) -> None:
        self._closing = True
        for sub in list(self.subscribers):
            sub.offer(_BYE)

    async def stop(self) -> None:
        self.close_streams()
        for task in (self._task, self._handing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._handing = None
        await self._disconnect()

    async def _ensure_listening(self) -> None:
        if self._task is not None and self.connected:
            return
        async with self._starting:
            if self._task is None:
                try:
                    await self._connect()
                except Exception as exc:
                    log.warning("live cases: cannot listen (%s)", exc)
                    raise LiveUnavailable() from None
                self._task = asyncio.create_task(self._run(), name="live-cases")
                self._handing = asyncio.create_task(self._hand_out(), name="live-cases-out")
            elif not self.connected:
                raise LiveUnavailable()  # the background task is reconnecting

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self.url,
            timeout=5,
            server_settings={"timezone": "UTC", "application_name": "phananh-live"},
        )
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(CHANNEL, self._notified)
        except BaseException:
            conn.terminate()
            raise
        self._conn, self._lost = conn, lost
        self.connections += 1
        if self.connections > 1:
            # changes sent while disconnected were lost to this process: the streams reload
            for sub in list(self.subscribers):
                sub.offer(_RESYNC)

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:
                conn.terminate()

    async def _run(self) -> None:
        while True:
            conn = self._conn
            if conn is None:
                try:
                    await self._connect()
                except Exception as exc:
                    log.warning("live cases: cannot reconnect (%s); retrying", exc)
                    await asyncio.sleep(self.retry_s)
                continue
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lost.wait(), self.ping_s)
                if not self._lost.is_set():
                    async with self._querying:
                        await conn.fetchval(sql.PING.sql, timeout=self.ping_s)
                    continue
                log.warning("live cases: connection lost; reconnecting")
            except Exception as exc:
                log.warning("live cases: connection failed (%s); reconnecting", exc)
            await self._disconnect()

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._incoming.put_nowait(payload)
        except asyncio.QueueFull:  # the hand-out is far behind: every stream reloads
            _drain_incoming(self._incoming)
            self._incoming.put_nowait(None)

    async def _hand_out(self) -> None:
        """The changes, in the order they came, to the streams that may see them."""
        while True:
            payload = await self._incoming.get()
            if payload is None:
                for sub in list(self.subscribers):
                    sub.offer(_RESYNC)
                continue
            try:
                change = parse(payload)
            except (ValueError, KeyError, TypeError):
                log.warning("live cases: malformed notification %r", payload[:200])
                continue
            if not self.subscribers:
                continue
            try:
                change = dataclasses.replace(
                    change,
                    lineage=await self._lineage(change.ward),
                    from_lineage=await self._lineage(change.from_ward),
                )
            except Exception as exc:  # the connection failed: it reconnects, the streams reload
                log.warning("live cases: cannot read a ward's lineage (%s)", exc)
                for sub in list(self.subscribers):
                    sub.offer(_RESYNC)
                continue
            for sub in list(self.subscribers):
                if change.visible_to(sub.grants):
                    sub.offer(change)

    async def _lineage(self, ward: str | None) -> tuple[str, ...]:
        if not ward:
            return ()
        found = self._lineages.get(ward)
        if found is None:
            conn = self._conn
            if conn is None:
                raise ConnectionError("not connected")
            async with self._querying:
                stmt = sql.WARD_LINEAGE
                row = await conn.fetchval(stmt.sql, *stmt.args({"ward": ward}), timeout=self.ping_s)
            found = tuple(row or (ward,))
            if len(self._lineages) < 100_000:
                self._lineages[ward] = found
        return found


def _drain_incoming(queue: asyncio.Queue[str | None]) -> None:
    while not queue.empty():
        queue.get_nowait()


LIVE_ROLES = frozenset({"officer", "leader", "admin"})


async def open_stream(database: Database, hub: LiveCases, principal: Principal) -> Subscriber:
    """Subscribe the caller (staff who work or watch cases) with their grants as they are now."""
    if principal.role not in LIVE_ROLES:
        raise Forbidden(
            "Your role may not do this.", message_vi="Vai trò của bạn không được phép thao tác này."
        )
    async with database.session() as session:
        grants = await load_grants(session, principal)
    return await hub.subscribe(principal.id, grants)


READY = b"retry: 3000\nevent: ready\ndata: {}\n\n"
KEEPALIVE = b": keep-alive\n\n"


def _bye(reason: str) -> bytes:
    return f'event: bye\ndata: {{"reason":"{reason}"}}\n\n'.encode()


async def stream(
    hub: LiveCases, sub: Subscriber, *, keepalive_s: float, max_age_s: float
) -> AsyncIterator[bytes]:
    """The stream's bytes (see the module's docstring); the subscription ends with it."""
    try:
        yield READY
        ends = time.monotonic() + max_age_s
        while True:
            left = ends - time.monotonic()
            if left <= 0:
                yield _bye("expired")
                return
            try:
                item = await asyncio.wait_for(sub.queue.get(), min(keepalive_s, left))
            except TimeoutError:
                yield KEEPALIVE
                continue
            if item == _BYE:
                yield _bye("shutdown")
                return
            if item == _RESYNC:
                yield b"event: resync\ndata: {}\n\n"
            elif isinstance(item, Change):
                yield item.sse()
    finally:
        hub.unsubscribe(sub)


__all__ = [
    "CHANNEL",
    "LIVE_ROLES",
    "Change",
    "LiveCases",
    "Subscriber",
    "TooManyStreams",
    "close_all",
    "open_stream",
    "stream",
]
