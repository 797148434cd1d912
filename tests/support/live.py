"""The whole app served for real in a thread of the test process, over a seeded database of its own.

For tools that drive the API from synchronous code (schemathesis): the app, its pool and the seeding
all live on the thread's event loop, apart from the suite's; the identities are ready-made headers.

    with LiveApp(pg_admin_url, template_db) as live:
        httpx.get(live.url + "/v1/reports", headers=live.identities["resident"])
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import uuid
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn

from api.app import create_app
from api.core.db import make_engine
from api.core.settings import Settings
from tests.factories import TEST_JWT_SECRET, make_city, make_report, resident, staff
from tests.factories.people import DEVICE_SECRET
from tests.support.database import create_database, drop_database, unique_name


class LiveApp:
    def __init__(self, admin_url: str, template: str) -> None:
        self.admin_url, self.template = admin_url, template
        self.url = ""
        self.identities: dict[str, dict[str, str]] = {}
        self._ready = threading.Event()
        self._failure: list[BaseException] = []
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name="live-app", daemon=True)

    def __enter__(self) -> LiveApp:
        self._thread.start()
        self._ready.wait(120)
        if self._failure:
            raise self._failure[0]
        if not self._ready.is_set():
            raise TimeoutError("the live app did not start")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(60)

    def new_resident(self) -> dict[str, str]:
        """The headers of a resident of its own (POST /v1/auth/device), for a call that ends it."""
        body = {
            "device_id": f"live-{uuid.uuid4().hex[:16]}",
            "device_secret": DEVICE_SECRET,
            "platform": "android",
        }
        r = httpx.post(f"{self.url}/v1/auth/device", json=body, timeout=30)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._failure.append(exc)
            self._ready.set()

    async def _main(self) -> None:
        name = unique_name("phananh_live")
        db_url = await create_database(self.admin_url, name, template=self.template)
        try:
            with tempfile.TemporaryDirectory(prefix="phananh-live-") as tmp:
                await self._serve(db_url, Path(tmp))
        finally:
            await drop_database(self.admin_url, name)

    async def _serve(self, db_url: str, tmp: Path) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = Settings(
            data_dir=tmp / "data",
            media_dir=tmp / "media",
            jwt_secret=TEST_JWT_SECRET,
            serve_worker=False,
            access_log=False,
            public_base_url=self.url,
            # every caller is 127.0.0.1: the per-network limit would soon refuse the residents a test makes
            register_rate_per_ip_minute=1_000_000,
        )
        engine = make_engine(db_url, pool_size=1, max_overflow=0)
        try:
            async with engine.begin() as conn:
                await make_city(conn)
                officer = await staff(conn, "officer", ["W1"], settings=settings)
                admin = await staff(conn, "admin", ["T1"], settings=settings)
                await make_report(conn, "W1", settings=settings)
                await make_report(conn, "W1", status="in_progress", by=admin, settings=settings)
        finally:
            await engine.dispose()
        app = create_app(settings, database_url=db_url)
        server = self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                lifespan="on",
                access_log=False,
                timeout_graceful_shutdown=1,
                log_config=None,  # the suite's logging stays as it is (other tests capture log lines)
            )
        )
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn sets a flag, no event
            await asyncio.sleep(0.02)
        if serving.done():
            await serving  # raises what stopped it
        async with httpx.AsyncClient(base_url=self.url) as client:
            person = await resident(client)
        self.identities = {
            "anonymous": {},
            "resident": person.headers,
            "officer": officer.headers,
            "admin": admin.headers,
        }
        self._ready.set()
        await serving
