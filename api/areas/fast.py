"""The fast path of `GET /v1/areas/lookup` (see api/fast.py).

Through Litestar a lookup costs ~0.6 ms of Python against ~0.15 ms of PostGIS. Here a well-formed
lookup that finds a ward is answered directly: the same validation bounds, the same service
(`geo.assign_fast`), the same body (`LookupOut`). Malformed or out-of-range input and a point
outside the service area go to Litestar (api/areas/controller.py), which renders the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import msgspec
from litestar import Litestar

from api.areas.http import LookupOut, _ref, lineage_cache
from api.core.db import plain_url
from api.core.fastpath import Answer
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
    method, path, max_body = "GET", PATH, 0

    def __init__(self, app: Litestar) -> None:
        self.state = app.state
        self.connections: _Connections | None = None

    async def answer(self, scope: dict[str, Any], headers: dict[bytes, bytes], body: bytes) -> Answer | None:
        point = _coordinates(scope["query_string"])
        found = None if point is None else await self._lookup(*point)
        return None if found is None else Answer(200, found)

    async def close(self) -> None:
        if self.connections is not None:
            await self.connections.close()

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
