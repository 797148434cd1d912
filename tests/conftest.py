"""Fixtures shared by the whole suite.

- `db_conn` / `session` / `client`: one connection per test inside a transaction that is rolled back;
  the app under test joins it (its commits become savepoints). Fast; use it by default.
- `fresh_db` / `fresh_client`: a database of its own, cloned from the migrated template, with a real
  connection pool. For tests that need real concurrency (several transactions at once) or several
  processes (workers).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from api.app import create_app
from api.core.db import Database, make_engine
from api.core.fastpath import FastPaths
from api.core.settings import Settings
from tests.support.database import (
    create_database,
    create_migrated_database,
    drop_database,
    server_url,
    unique_name,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
WARDS = SHARED / "data" / "wards"


def in_ci() -> bool:
    """Running under CI (`CI=true`, as CI services set it): what a developer's machine may lack is required."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def shared_file(name: str) -> Path:
    """A file from ../shared/data/wards. When it is missing the test is skipped, saying why — except
    under CI (`CI=true`), where a missing ../shared folder fails the test: CI must run them all."""
    path = WARDS / name
    if not path.exists():
        why = f"shared boundary data not found at {path} (the ../shared folder is not beside the repo)"
        if in_ci():
            pytest.fail(f"{why}; under CI (CI=true) this is a failure, not a skip", pytrace=False)
        pytest.skip(why)
    return path


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    with server_url() as url:
        yield url


@pytest.fixture(scope="session")
async def template_db(pg_admin_url: str) -> AsyncIterator[str]:
    """Name of a database migrated to head, used as the template for every test database."""
    name = unique_name("phananh_tpl")
    await create_migrated_database(pg_admin_url, name)
    yield name
    await drop_database(pg_admin_url, name)


@pytest.fixture(scope="session")
async def test_db_url(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    name = unique_name("phananh_t")
    url = await create_database(pg_admin_url, name, template=template_db)
    yield url
    await drop_database(pg_admin_url, name)


@pytest.fixture(scope="session")
async def engine(test_db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(test_db_url, pool_size=2, max_overflow=2)
    yield eng
    await eng.dispose()


@pytest.fixture
async def db_conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        tx = await conn.begin()
        try:
            yield conn
        finally:
            await tx.rollback()


@pytest.fixture
def database(engine: AsyncEngine, db_conn: AsyncConnection) -> Database:
    return Database(engine, bind=db_conn)


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.session() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        media_dir=tmp_path / "media",
        jwt_secret="test-secret-" + "x" * 32,
        serve_worker=False,
        access_log=False,
        public_base_url="http://testserver",
    )


@asynccontextmanager
async def serving(app: Litestar, *, fast: FastPaths | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan in its own task (pytest-asyncio and anyio cancel scopes disagree
    otherwise) and yield an HTTP client talking to it in-process (through `fast`, the fast paths
    `phananh serve` puts in front of it, when given)."""
    started, stop = asyncio.Event(), asyncio.Event()
    failure: list[BaseException] = []

    async def run() -> None:
        try:
            async with app.lifespan():
                started.set()
                await stop.wait()
        except BaseException as exc:
            failure.append(exc)
            started.set()

    task = asyncio.create_task(run())
    await started.wait()
    if failure:
        raise failure[0]
    transport = httpx.ASGITransport(app=fast or app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        try:
            yield client
        finally:
            stop.set()
            await task


@pytest.fixture
async def app(settings: Settings, database: Database) -> Litestar:
    return create_app(settings, database=database)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as c:
        yield c


@pytest.fixture
async def fresh_db(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    """URL of a database of this test's own (real commits, real concurrency)."""
    name = unique_name("phananh_f")
    url = await create_database(pg_admin_url, name, template=template_db)
    yield url
    await drop_database(pg_admin_url, name)


@pytest.fixture
async def fresh_client(settings: Settings, fresh_db: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database_url=fresh_db)
    async with serving(app) as c:
        yield c
