"""Ending an account's access tokens before they expire, in every API process, within moments.

`revoke_tokens` stamps the account with a not-before time (`users.tokens_not_before`, the time of
the revocation) and sends it on the `phananh_tokens_revoked` channel with `pg_notify`, in the
caller's transaction: PostgreSQL delivers the notification only when that transaction commits.
Every API process keeps one connection LISTENing on the channel (`RevocationListener`, started in
the app's lifespan) and copies each time into its in-memory table (`api.access.tokens.NOT_BEFORE`),
which `decode_access` consults on every request: no database round trip per request. The process
that revokes applies it to its own table at commit too, without waiting for its notification.

Notifications sent while a listener is disconnected are lost to it, so on every (re)connection it
first LISTENs, then loads every not-before time younger than the access-token lifetime: a process
that starts, or comes back after an outage, knows every revocation that can still matter.

The times come from the revoking process's clock and `iat` from the issuing process's: the API
hosts' clocks must agree (NTP), as they must for token expiry already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from api.access import sql
from api.access.models import User
from api.access.tokens import NOT_BEFORE, NotBefore

log = logging.getLogger("phananh.revocation")

CHANNEL = "phananh_tokens_revoked"
_PENDING = "phananh.revoked"  # session.info: (user id, time) to apply to this process's table at commit


async def revoke_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Every access token of the account issued until now is refused, in every API process, once the
    session commits (the caller commits). Its refresh tokens are the caller's business."""
    now = time.time()
    stamp = datetime.fromtimestamp(now, UTC)
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(tokens_not_before=func.greatest(User.tokens_not_before, stamp))
        .execution_options(synchronize_session=False)
    )
    await session.execute(select(func.pg_notify(CHANNEL, f"{user_id} {now!r}")))
    _pending(session.sync_session).append((user_id, now))


def _pending(session: Session) -> list[tuple[uuid.UUID, float]]:
    pending: list[tuple[uuid.UUID, float]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _apply)
        event.listen(session, "after_rollback", _discard)
    return pending


def _apply(session: Session) -> None:
    for user_id, not_before in session.info.get(_PENDING, ()):
        NOT_BEFORE.set(user_id, not_before)
    _discard(session)


def _discard(session: Session) -> None:
    session.info.get(_PENDING, []).clear()


class RevocationListener:
    """This process's connection listening for revocations, kept open: reconnects after a failure
    (every `retry_s`), notices a dead connection by a ping every `ping_s`, and on each connection
    loads the not-before times of the last `window_s` seconds into `table`."""

    def __init__(
        self,
        url: str,
        window_s: float,
        table: NotBefore = NOT_BEFORE,
        *,
        retry_s: float = 1.0,
        ping_s: float = 5.0,
    ) -> None:
        self.url, self.window_s, self.table = url, window_s, table
        self.retry_s, self.ping_s = retry_s, ping_s
        self.connections = 0  # successful (re)connections, for tests and diagnostics
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._lost.is_set()

    async def start(self) -> None:
        """Connect and load once, then keep listening in the background. A failure here does not
        stop the start (the database may come later; /ready says so): it is retried."""
        try:
            await self._connect()
        except Exception as exc:
            log.warning("revocation listener: cannot connect (%s); retrying", exc)
        self._task = asyncio.create_task(self._run(), name="revocation-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self.url,
            timeout=5,
            server_settings={"timezone": "UTC", "application_name": "phananh-revocations"},
        )
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            # LISTEN before loading: a revocation committed in between is in the load or notified
            await conn.add_listener(CHANNEL, self._notified)
            recent = sql.RECENT_NOT_BEFORE
            rows = await conn.fetch(recent.sql, *recent.args({"window_s": float(self.window_s)}), timeout=10)
        except BaseException:
            conn.terminate()
            raise
        for user_id, not_before in rows:
            self.table.set(user_id, not_before)
        self._conn, self._lost = conn, lost
        self.connections += 1
        if self.connections > 1:
            log.info("revocation listener: reconnected, %d recent revocations loaded", len(rows))

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:
                conn.terminate()

    async def _run(self) -> None:
        failing = False
        while True:
            conn = self._conn
            if conn is None:
                try:
                    await self._connect()
                    failing = False
                except Exception as exc:
                    if not failing:  # once per outage, not once per attempt
                        log.warning("revocation listener: cannot connect (%s); retrying", exc)
                    failing = True
                    await asyncio.sleep(self.retry_s)
                continue
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lost.wait(), self.ping_s)
                if not self._lost.is_set():
                    await conn.fetchval(sql.PING.sql, timeout=self.ping_s)
                    self.table.forget_older_than(time.time() - self.window_s)
                    continue
                log.warning("revocation listener: connection lost; reconnecting")
            except Exception as exc:
                log.warning("revocation listener: connection failed (%s); reconnecting", exc)
            await self._disconnect()

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            user_id, _, when = payload.partition(" ")
            self.table.set(uuid.UUID(user_id), float(when))
        except ValueError:
            log.warning("revocation listener: malformed notification %r", payload)
