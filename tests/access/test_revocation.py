"""Revoking an account's access tokens (api/access/revocation.py, api/access/tokens.py).

- `decode_access` refuses a token issued before the account's not-before time, to the millisecond,
  and accepts one issued after it.
- `revoke_tokens` applies to this process's table when its transaction commits, not when it rolls back.
- `RevocationListener`, on a database of the test's own: a revocation committed elsewhere reaches
  it by NOTIFY; on connecting it loads the recent revocations (and not the old ones); after losing
  its connection it reconnects and loads what it missed meanwhile.

Each listener here fills a table of its own, not the process's.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.access.revocation import RevocationListener, revoke_tokens
from api.access.tokens import NOT_BEFORE, NotBefore, Principal, RevokedToken, decode_access, encode_access
from api.core.db import Database, make_engine, plain_url

SECRET = "revocation-test-" + "x" * 32


def test_a_token_issued_before_the_not_before_time_is_refused() -> None:
    who = Principal(uuid.uuid4(), "resident")
    before = encode_access(who, SECRET, 900)
    assert decode_access(before, SECRET) == who  # verified and remembered
    time.sleep(0.002)
    NOT_BEFORE.set(who.id, time.time())
    with pytest.raises(RevokedToken):
        decode_access(before, SECRET)  # the remembered verification does not bypass it
    time.sleep(0.002)
    after = encode_access(who, SECRET, 900)  # within the same second, but after: accepted
    assert decode_access(after, SECRET) == who
    NOT_BEFORE.set(who.id, 0.0)  # an older time never undoes a later one
    with pytest.raises(RevokedToken):
        decode_access(before, SECRET)
    other = Principal(uuid.uuid4(), "officer")
    assert decode_access(encode_access(other, SECRET, 900), SECRET) == other


def test_the_table_forgets_what_can_no_longer_matter() -> None:
    table = NotBefore()
    old, recent = uuid.uuid4(), uuid.uuid4()
    table.set(old, time.time() - 1000)
    table.set(recent, time.time())
    table.forget_older_than(time.time() - 900)
    assert table.get(old) is None and table.get(recent) is not None and len(table) == 1


@pytest.fixture
async def fresh_engine(fresh_db: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(fresh_db, pool_size=2, max_overflow=0)
    yield engine
    await engine.dispose()


async def new_user(engine: AsyncEngine, role: str = "resident") -> uuid.UUID:
    uid = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO users (id, role, username) VALUES (:id, :role, :u)"),
            {"id": uid, "role": role, "u": None if role == "resident" else f"u-{uid.hex[:12]}"},
        )
    return uid


async def revoke(engine: AsyncEngine, user_id: uuid.UUID, *, commit: bool = True) -> None:
    async with Database(engine).session() as session:
        await revoke_tokens(session, user_id)
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> float:
    """Seconds until `condition` held; fails after `timeout_s`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "not within the time allowed"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_commit_applies_here_at_once_and_a_rollback_not_at_all(fresh_engine: AsyncEngine) -> None:
    kept, dropped = await new_user(fresh_engine), await new_user(fresh_engine)
    await revoke(fresh_engine, dropped, commit=False)
    assert NOT_BEFORE.get(dropped) is None
    await revoke(fresh_engine, kept)
    assert NOT_BEFORE.get(kept) is not None  # no waiting for the notification
    async with fresh_engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT extract(epoch FROM tokens_not_before)::float8 FROM users WHERE id = :id"),
            {"id": kept},
        )
        assert (
            await conn.scalar(text("SELECT tokens_not_before FROM users WHERE id = :id"), {"id": dropped})
            is None
        )
    assert stored == pytest.approx(NOT_BEFORE.get(kept), abs=1e-5)


async def test_the_listener_hears_revocations_loads_recent_ones_and_catches_up_after_an_outage(
    fresh_db: str, fresh_engine: AsyncEngine
) -> None:
    url = plain_url(fresh_db)
    # before the listener starts: a recent revocation, and one older than the window
    early, ancient = await new_user(fresh_engine), await new_user(fresh_engine, "officer")
    await revoke(fresh_engine, early)
    async with fresh_engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET tokens_not_before = now() - interval '2 hours' WHERE id = :id"),
            {"id": ancient},
        )
    table = NotBefore()
    listener = RevocationListener(url, 900, table, retry_s=0.05, ping_s=0.5)
    await listener.start()
    try:
        assert listener.connected and listener.connections == 1
        assert table.get(early) is not None and table.get(ancient) is None

        # committed by someone else: notified
        later = await new_user(fresh_engine)
        await revoke(fresh_engine, later)
        await until(lambda: table.get(later) is not None, 5.0)

        # connection lost, and the server unreachable for a while: a revocation made meanwhile is
        # not heard, and is loaded on reconnecting
        listener.url = "postgresql://nobody@127.0.0.1:1/none"
        async with fresh_engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'phananh-revocations' AND datname = current_database()"
                )
            )
        await until(lambda: not listener.connected, 5.0)
        missed = await new_user(fresh_engine)
        await revoke(fresh_engine, missed)
        await asyncio.sleep(0.2)
        assert table.get(missed) is None  # nobody was listening
        listener.url = url
        await until(lambda: listener.connections == 2 and table.get(missed) is not None, 5.0)
    finally:
        await listener.stop()
    assert not listener.connected


async def test_a_listener_that_cannot_connect_does_not_stop_the_start() -> None:
    listener = RevocationListener("postgresql://nobody@127.0.0.1:1/none", 900, NotBefore(), retry_s=0.05)
    await listener.start()
    await asyncio.sleep(0.1)
    assert not listener.connected and listener.connections == 0
    await listener.stop()
