"""Every change of a case announced to every API process, after it commits (the live queue,
api/casework/live.py, LISTENs).

`notify_event` — which every case change passes through, submission included — calls `announce`; the
change waits in the session until it commits (a rollback drops it), then this process sends it with
`pg_notify` on `phananh_cases` from a connection of its own (`Announcer`, one per event loop and
database, closed when idle). Not from inside the change's transaction: PostgreSQL serialises the commits
of all transactions that NOTIFY (a cluster-wide lock held through the commit's WAL flush), which would
cap every case change, submissions first, at one commit at a time; a NOTIFY-only transaction writes no
WAL and costs next to nothing beside them (README, "Live queue").

Best effort, at most once: a change whose announcement fails (the database unreachable at that
moment) is logged and lost to the live streams, which is why a stream's client loads the queue on
`ready` and on `resync`. Changes committed together are sent in one statement, in commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from api.core.db import plain_url
from api.notifications import sql

log = logging.getLogger("phananh.announce")

CHANNEL = "phananh_cases"
_PENDING = "phananh.case_changes"  # session.info: the payloads to send once the session commits
BATCH = 500
IDLE_S = 5.0  # the connection is closed after this long without a change to send


def payload(ev: Mapping[str, Any]) -> str:
    """What a change says (`ev`: a row of `sql.EVENT_FACTS`): enough for a process to decide who may
    see it (ward, agency, the ward a transfer left) and for a console to refresh a row. Far below
    NOTIFY's 8,000 bytes."""
    data = ev["data"] or {}
    return json.dumps(
        {
            "event": ev["kind"],
            "event_id": str(ev["event_id"]),
            "public": bool(ev["is_public"]),
            "code": ev["code"],
            "status": ev["status"],
            "version": ev["version"],
            "ward": ev["ward_code"],
            "agency": ev["agency_code"],
            "from_ward": data.get("from_ward"),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def announce(session: AsyncSession, ev: Mapping[str, Any]) -> None:
    """Send the change `ev` to every API process once `session` commits."""
    _pending(session.sync_session).append(payload(ev))


def _pending(session: Session) -> list[str]:
    pending: list[str] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _send)
        event.listen(session, "after_rollback", _discard)
    return pending


def _discard(session: Session) -> None:
    session.info.get(_PENDING, []).clear()


def _send(session: Session) -> None:
    payloads: list[str] = session.info.get(_PENDING, [])
    if not payloads:
        return
    batch = list(payloads)
    payloads.clear()
    try:
        loop = asyncio.get_running_loop()
        url = plain_url(session.get_bind().engine.url.render_as_string(hide_password=False))
    except Exception as exc:  # no loop (a synchronous caller) or no bind: nobody to announce for
        log.debug("case changes not announced: %s", exc)
        return
    announcer_for(loop, url).send(batch)


_ANNOUNCERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Announcer]] = (
    weakref.WeakKeyDictionary()
)


def announcer_for(loop: asyncio.AbstractEventLoop, url: str) -> Announcer:
    by_url = _ANNOUNCERS.setdefault(loop, {})
    found = by_url.get(url)
    if found is None:
        found = by_url[url] = Announcer(url)
    return found


async def close_all() -> None:
    """Send what waits and close this loop's announcers (a process's shutdown)."""
    for announcer in list(_ANNOUNCERS.get(asyncio.get_running_loop(), {}).values()):
        await announcer.close()


class Announcer:
    """One connection sending this process's case changes, in order, batch by batch."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent = 0  # changes announced, for tests and diagnostics
        self._queue: list[str] = []
        self._more = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    def send(self, payloads: list[str]) -> None:
        self._queue.extend(payloads)
        self._more.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="announce-cases")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._queue:
            await self._flush()
        await self._disconnect()

    async def _run(self) -> None:
        try:
            while True:
                self._more.clear()
                await self._flush()
                try:
                    await asyncio.wait_for(self._more.wait(), IDLE_S)
                except TimeoutError:
                    if not self._queue:
                        break
        finally:
            if not self._queue:
                await self._disconnect()

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(
                        self.url, timeout=5, server_settings={"application_name": "phananh-announce"}
                    )
                stmt = sql.NOTIFY_MANY
                await self._conn.execute(stmt.sql, *stmt.args({"channel": CHANNEL, "payloads": batch}))
                self.sent += len(batch)
            except Exception as exc:
                log.warning("case changes not announced (%d lost): %s", len(batch), exc)
                await self._disconnect()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:
                conn.terminate()
            except BaseException:  # cancelled while closing: do not leave the socket behind
                conn.terminate()
                raise


__all__ = ["CHANNEL", "Announcer", "announce", "close_all", "payload"]
