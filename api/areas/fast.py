"""A lean ASGI path for `GET /v1/areas/lookup`, in front of the Litestar app in `phananh serve`.

Every report and every map tap asks for a ward, so the lookup is the hottest request. Through
Litestar it costs ~0.6 ms of Python per request (routing, parameter model, DI, response) against
~0.15 ms of PostGIS; on two cores that caps the API far below the database. Here a well-formed
lookup that finds a ward is answered directly: the same validation bounds, the same service
(`geo.assign_fast`), the same body (`LookupOut`) and headers. Anything else — malformed or
out-of-range input, a point outside the service area, every other path — goes to Litestar, which
owns the error shape and the OpenAPI description (api/areas/controller.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import msgspec
from litestar import Litestar

from api.areas.controller import LookupOut, _ref, lineage_cache
from api.db import plain_url
from api.logs import _valid_incoming, access_log, request_id_var
from geo import Assignment, assign_fast

log = logging.getLogger("phananh.areas")

PATH = "/v1/areas/lookup"
_encode = msgspec.json.Encoder().encode


def _coordinates(query: bytes) -> tuple[float, float] | None:
    """(lat, lng) when the query holds exactly those two, as finite in-range numbers; else None."""
    try:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    if len(pairs) != 2:
        return None
    values = dict(pairs)
    try:
        lat, lng = float(values["lat"]), float(values["lng"])
    except (KeyError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


class _Connections:
    """A few raw asyncpg connections kept for lookups: no pool bookkeeping per request, statements
    stay prepared, and at most `size` lookups hit the database at once (more only queue up)."""

    def __init__(self, url: str, size: int) -> None:
        self.url, self.free, self.open = url, list[asyncpg.Connection](), list[asyncpg.Connection]()
        self.slots = asyncio.Semaphore(max(1, size))

    async def acquire(self) -> asyncpg.Connection:
        await self.slots.acquire()
        if self.free:
            return self.free.pop()
        try:
            conn = await asyncpg.connect(
                self.url, server_settings={"timezone": "UTC", "application_name": "phananh-lookup"}
            )
        except BaseException:
            self.slots.release()
            raise
        self.open.append(conn)
        return conn

    def release(self, conn: asyncpg.Connection, broken: bool) -> None:
        if broken or conn.is_closed():
            self.open.remove(conn)
            conn.terminate()
        else:
            self.free.append(conn)
        self.slots.release()

    async def close(self) -> None:
        for conn in self.open:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)
        self.open.clear()
        self.free.clear()


class LookupFastPath:
    """ASGI wrapper: answers found lookups itself, hands everything else to the Litestar app."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.state = app.state
        self.connections: _Connections | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._on_shutdown(send))
            return
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        point = _coordinates(scope["query_string"])
        body = None if point is None else await self._lookup(*point)
        if body is None:
            await self.app(scope, receive, send)
            return
        rid = ""
        for k, v in scope["headers"]:
            if k == b"x-request-id":
                rid = v.decode("latin-1")
                break
        if not _valid_incoming(rid):
            rid = uuid.uuid4().hex
        started = time.perf_counter()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", rid.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        if self.state.settings.access_log:
            token = request_id_var.set(rid)
            access_log.info(
                "GET %s 200",
                PATH,
                extra={"status": 200, "ms": round((time.perf_counter() - started) * 1000, 2)},
            )
            request_id_var.reset(token)

    def _on_shutdown(self, send: Any) -> Any:
        async def wrapped(message: Any) -> None:
            if message["type"] == "lifespan.shutdown.complete" and self.connections is not None:
                await self.connections.close()
            await send(message)

        return wrapped

    async def _lookup(self, lat: float, lng: float) -> bytes | None:
        """The body of a found lookup; None to let Litestar answer (a miss, or any failure)."""
        state, settings = self.state, self.state.settings
        if state.db.bind is not None:  # tests: the app is bound to one (rolled-back) connection
            async with state.db.connect() as bound:
                raw = (await bound.get_raw_connection()).driver_connection
                found = await assign_fast(
                    raw,
                    lineage_cache(state),
                    lat,
                    lng,
                    snap_distance_m=settings.snap_distance_m,
                    near_boundary_m=settings.near_boundary_m,
                )
            return None if found is None else _body(found)
        if self.connections is None:
            url = state.db.engine.url.render_as_string(hide_password=False)
            self.connections = _Connections(plain_url(url), settings.lookup_connections)
        try:
            conn = await self.connections.acquire()
        except Exception:
            log.warning("lookup fast path: no connection", exc_info=True)
            return None
        broken = True
        try:
            found = await assign_fast(
                conn,
                lineage_cache(state),
                lat,
                lng,
                snap_distance_m=settings.snap_distance_m,
                near_boundary_m=settings.near_boundary_m,
            )
            broken = False
        except Exception:
            log.warning("lookup fast path failed; Litestar answers", exc_info=True)
            return None
        finally:
            self.connections.release(conn, broken)
        return None if found is None else _body(found)


def _body(found: Assignment) -> bytes:
    return _encode(
        LookupOut(
            ward=_ref(found.ward),
            ancestors=[_ref(a) for a in found.ancestors],
            snapped=found.snapped,
            distance_m=found.distance_m,
            near_boundary=found.near_boundary,
        )
    )


def with_fast_paths(app: Litestar) -> LookupFastPath:
    return LookupFastPath(app)


def create_asgi_from_env() -> LookupFastPath:
    """Factory for `uvicorn --factory` worker processes (see api.cli._serve)."""
    from api.app import create_app_from_env

    return LookupFastPath(create_app_from_env())
