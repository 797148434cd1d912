"""The test database server: `TEST_DATABASE_URL`, or a throwaway cluster started for the session.

A template database is migrated once per session; tests clone it (`CREATE DATABASE … TEMPLATE`),
which costs ~0.1 s, or share one clone and roll back their transaction, which costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from api.core import migrate
from api.core.db import make_engine
from api.core.embedded_pg import Cluster, free_port


@contextmanager
def server_url() -> Iterator[str]:
    """An admin URL (database `postgres`) of a server we may create databases on."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield make_url(url).set(database="postgres").render_as_string(hide_password=False)
        return
    root = Path(tempfile.mkdtemp(prefix="phananh-testpg-"))
    cluster = Cluster(root, free_port())
    try:
        cluster.start(fast_unsafe=True)
        yield cluster.admin_url()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def db_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


async def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        if template:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return db_url(admin_url, name)


async def create_migrated_database(admin_url: str, name: str) -> str:
    """A new database `name` migrated to head (`api.core.migrate`); its URL."""
    url = await create_database(admin_url, name)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextmanager
def throwaway_cluster(*, durable: bool = True) -> Iterator[Cluster]:
    """A PostgreSQL cluster of the caller's own, to stop, crash and restart (never the shared server).
    `durable`: fsync and synchronous commit on, so that a crash loses no committed transaction."""
    root = Path(tempfile.mkdtemp(prefix="phananh-faultpg-"))
    cluster = Cluster(root, free_port())
    try:
        cluster.start(fast_unsafe=not durable)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def postmaster_pid(cluster: Cluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


def crash(cluster: Cluster) -> None:
    """`kill -9` of the postmaster, then of every process it had started (as a machine's crash
    would leave it: nothing of the server still running), by their ids."""
    parent = postmaster_pid(cluster)
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                children.append(int(stat.parent.name))
    for pid in [parent, *children]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in [parent, *children]):
        time.sleep(0.05)
    # A killed postmaster nobody reaps stays a zombie, whose id the lock files still name: pg_ctl and
    # the next postmaster would take it for a running server. It is dead; so are its locks.
    if not _alive(parent):
        (cluster.data / "postmaster.pid").unlink(missing_ok=True)
        for lock in cluster.run.glob(".s.PGSQL.*"):  # the socket and its lock file
            lock.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
