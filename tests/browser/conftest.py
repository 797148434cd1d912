"""Fixtures for tests that drive the staff console in a real browser.

- `live` (session): the real app (`api.app.create_app`) served by uvicorn in a thread on a free port,
  over a database of its own cloned from the migrated template and seeded once with a committed world
  (`LiveWorld`): the synthetic city W1..W3, staff of every role with passwords, reports in every ward.
  Tests that change data should change only what they made, or make their own.
- `browser` (session): Debian's Chromium (/usr/bin/chromium, or PHANANH_CHROMIUM) driven by Playwright
  for Python. Never `playwright install`: it downloads a browser build, which cannot be fetched here.
- `page`: a fresh browser context and page (1280×800, Vietnamese) whose screenshot is saved as
  tests/artifacts/<test>.png at teardown; `page_errors` lists what went wrong in it (script errors,
  CSP violations, failed requests), for tests to assert on.
- `sign_in(page, live, "leader")`: through the sign-in page, as one of `LiveWorld.people`;
  `unlabelled(page)`: the form controls no label names (every one must have one).

Skipped, saying why, when Chromium is absent and we are not root (as root, `scripts/bootstrap.sh`
installs it, so under root or CI its absence fails); likewise when the console was not built (`make web`).
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy import text

from api.app import create_app
from api.console.pages import dist_dir
from api.core.db import make_engine
from api.core.embedded_pg import free_port
from api.core.settings import Settings
from tests.conftest import in_ci
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, SIZE, WARDS, insert_report, make_city, staff
from tests.support.database import create_database, drop_database, unique_name

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path(os.environ.get("PHANANH_CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "mat-khau-thu-nghiem"
TIMEOUT_MS = 10_000


def _need(condition: bool, why: str, *, fail_as_root: bool) -> None:
    if condition:
        return
    if in_ci() or (fail_as_root and os.geteuid() == 0):
        pytest.fail(f"{why} (required here: as root or under CI, `make deps` provides it)", pytrace=False)
    pytest.skip(why)


@dataclass(frozen=True)
class LiveReport:
    code: str
    ward: str
    status: str
    category: str
    overdue: bool
    lng: float
    lat: float


@dataclass
class LiveWorld:
    base_url: str
    settings: Settings
    # role name → username (every password is PASSWORD)
    people: dict[str, str] = field(default_factory=dict)
    reports: dict[str, LiveReport] = field(default_factory=dict)

    @property
    def console(self) -> str:
        return self.base_url + "/console/"

    def in_wards(self, *wards: str) -> set[str]:
        return {r.code for r in self.reports.values() if r.ward in wards}


# The seeded people: the leader leads wards W1 and W2 (not W3); the others as named.
PEOPLE: dict[str, tuple[str, list[str], str]] = {
    "leader": ("leader", ["W1", "W2"], "Nguyễn Thị Hoà"),
    "officer": ("officer", ["W1"], "Trần Văn Đức"),
    # works W3 (outside the leader's wards): the casework tests add cases there, the map's stay as seeded
    "officer_w3": ("officer", ["W3"], "Phạm Thị Lan"),
    "admin": ("admin", [], "Quản trị viên"),
    "moderator": ("moderator", [], "Lê Thu Hương"),
}

# (name, ward, status, category, overdue, position inside the ward as fractions of its square)
REPORTS: list[tuple[str, str, str, str, bool, tuple[float, float]]] = [
    ("w1_new", "W1", "new", "hu-hong-duong", False, (0.3, 0.3)),
    ("w1_late", "W1", "acknowledged", "hu-hong-duong", True, (0.7, 0.3)),
    ("w1_work", "W1", "in_progress", "mat-dien", False, (0.3, 0.7)),
    ("w1_done", "W1", "resolved", "hu-hong-duong", False, (0.7, 0.7)),
    ("w2_new", "W2", "new", "mat-dien", False, (0.4, 0.5)),
    ("w2_late", "W2", "new", "cap-nuoc", True, (0.6, 0.5)),
    ("w3_new", "W3", "new", "hu-hong-duong", False, (0.4, 0.5)),
    ("w3_late", "W3", "in_progress", "mat-dien", True, (0.6, 0.5)),
]

_HASH = text("SELECT password_hash FROM users WHERE id = :id")
_SET_HASH = text("UPDATE users SET password_hash = :h WHERE id = :id")
_MOVE = text("UPDATE reports SET geom = ST_SetSRID(ST_MakePoint(:lng, :lat), 4326) WHERE code = :code")


async def _seed(url: str, world: LiveWorld) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await make_city(conn)
            for name, (role, areas, display) in PEOPLE.items():
                username = f"{name}.thu"
                # one password hash (argon2 is slow on purpose), copied to every account
                first = not world.people
                person = await staff(
                    conn,
                    role,
                    areas,
                    username=username,
                    password=PASSWORD if first else None,
                    display_name=display,
                )
                if first:
                    hashed = await conn.scalar(_HASH, {"id": person.id})
                else:
                    await conn.execute(_SET_HASH, {"id": person.id, "h": hashed})
                world.people[name] = username
            now = datetime.now(UTC)
            for name, ward, status, category, late, (fx, fy) in REPORTS:
                due = now - timedelta(hours=5) if late else now + timedelta(days=3)
                created = now - timedelta(days=2)
                columns: dict[str, Any] = {"resolve_due_at": due, "ack_due_at": due}
                if status == "resolved":
                    columns["resolved_at"] = now - timedelta(hours=1)
                report = await insert_report(
                    conn, ward, status=status, category=category, created_at=created, **columns
                )
                i = list(WARDS).index(ward)
                lng, lat = ORIGIN_LNG + (i + fx) * SIZE, ORIGIN_LAT + fy * SIZE
                await conn.execute(_MOVE, {"lng": lng, "lat": lat, "code": report.code})
                world.reports[name] = LiveReport(report.code, ward, status, category, late, lng, lat)
    finally:
        await engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run last: Playwright's sync API holds the main thread's event loop from the
    first of them until the session ends, and an async test after it could not run its own loop.
    (So the tests here are plain functions, never `async def`.)"""
    here = Path(__file__).parent
    items.sort(key=lambda item: item.path.is_relative_to(here))


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread: the test process keeps its own signals
        pass


@pytest.fixture(scope="session")
async def live(
    pg_admin_url: str, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveWorld]:
    """The app on a free port over a seeded database of its own."""
    _need(
        (dist_dir(Settings()) / "index.html").is_file(),
        f"the console is not built ({dist_dir(Settings())}): run `make web`",
        fail_as_root=False,
    )
    name = unique_name("phananh_live")
    url = await create_database(pg_admin_url, name, template=template_db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = tmp_path_factory.mktemp("live")
    settings = Settings(
        data_dir=tmp / "data",
        media_dir=tmp / "media",
        jwt_secret="live-secret-" + uuid.uuid4().hex * 2,
        serve_worker=False,
        access_log=False,
        public_base_url=base,
    )
    world = LiveWorld(base, settings)
    await _seed(url, world)
    app = create_app(settings, database_url=url)
    server = _Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        await asyncio.sleep(0.05)
    try:
        yield world
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)
        await drop_database(pg_admin_url, name)


@pytest.fixture(scope="session")
def playwright(live: LiveWorld) -> Iterator[Playwright]:
    # after `live`: Playwright's sync API holds the main thread's event loop while it runs, so the
    # async fixtures (the database) must be set up before it starts and torn down after it stops
    _need(CHROMIUM.exists(), f"no Chromium at {CHROMIUM} (apt-get install chromium)", fail_as_root=True)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
    yield b
    b.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, page_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    p = context.new_page()
    p.set_default_timeout(TIMEOUT_MS)
    p.on("pageerror", lambda exc: page_errors.append(f"script error: {exc}"))
    p.on(
        "console",
        lambda msg: page_errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    try:
        yield p
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            p.screenshot(path=str(ARTIFACTS / f"{_artifact_name(request.node.nodeid)}.png"))
        finally:
            context.close()


def sign_in(page: Page, live: LiveWorld, who: str, *, lang: str | None = None) -> None:
    """Signs `who` (a key of `LiveWorld.people`) in through the sign-in page and waits for the
    navigation of a signed-in user. `lang`: choose the language first ("en" or "vi")."""
    page.goto(live.console + "#/signin")
    if lang is not None:
        page.evaluate("lang => localStorage.setItem('phananh.console.lang', lang)", lang)
        page.reload()
    page.fill('input[name="username"]', live.people[who])
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_selector("nav a")


def unlabelled(page: Page) -> list[str]:
    """Form controls on the page that no label names (by `for`, by wrapping, or by aria-label)."""
    result: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.outerHTML.slice(0, 80))"""
    )
    return result
