"""Public area endpoints: which ward answers for a spot, and the area tree.

The lookup is the hot path (every report, every map tap): it borrows the raw asyncpg connection under
the SQLAlchemy pool (no ORM session, asyncpg keeps the statement prepared), makes one round trip,
and takes the ward's ancestors from an in-process cache.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter

from api.core import pagination
from api.core.db import Database
from api.core.deps import lineage_cache
from api.core.errors import NotFound, Unprocessable
from api.core.openapi import PUBLIC, errors
from api.core.pagination import Cursor
from api.core.settings import Settings
from geo import AreaNode, AreaRef, assign_fast, tree


class AreaRefOut(msgspec.Struct):
    code: str
    name: str
    level: str


class LookupOut(msgspec.Struct):
    ward: AreaRefOut
    ancestors: list[AreaRefOut]  # root first
    snapped: bool  # the point was in no polygon and went to the nearest ward
    distance_m: float | None  # how far it was snapped
    near_boundary: bool  # within a few metres of another ward (officers may hand off)


class AreaOut(msgspec.Struct):
    code: str
    name: str
    name_ascii: str
    level: str
    parent_code: str | None
    is_leaf: bool


class AreaPage(msgspec.Struct):
    items: list[AreaOut]
    total: int  # children of the parent in all, over every page
    next_cursor: str | None


class AreaDetailOut(msgspec.Struct):
    area: AreaOut
    ancestors: list[AreaRefOut]
    children: int
    geometry: dict[str, Any] | None = None  # GeoJSON MultiPolygon (WGS 84) with ?geometry=true


def _ref(a: AreaRef) -> AreaRefOut:
    return AreaRefOut(a.code, a.name, a.level)


def _area(n: AreaNode) -> AreaOut:
    return AreaOut(n.code, n.name, n.name_ascii, n.level, n.parent_code, n.is_leaf)


def _gate(state: State, settings: Settings) -> asyncio.Semaphore:
    """At most pool-size lookups at once per process: beyond that the pool would open (and close
    again) overflow connections per request, losing their prepared statements — a throughput collapse."""
    gate = state.get("lookup_gate")
    if gate is None:
        gate = state["lookup_gate"] = asyncio.Semaphore(max(1, settings.db_pool_size))
    return gate


Lat = Annotated[float, Parameter(ge=-90, le=90, description="latitude, WGS 84")]
Lng = Annotated[float, Parameter(ge=-180, le=180, description="longitude, WGS 84")]


class AreasController(Controller):
    path = "/v1/areas"
    tags = ["areas"]

    @get("/lookup", security=PUBLIC, responses=errors(422), operation_id="lookupArea")
    async def lookup(
        self,
        lat: FromQuery[Lat],
        lng: FromQuery[Lng],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        state: State,
    ) -> LookupOut:
        """The ward responsible for a point, with its ancestors. A point in no ward (river, coast,
        gap) goes to the nearest ward within the snap distance; farther out is a 422."""
        async with _gate(state, settings), database.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            found = await assign_fast(
                raw,
                lineage_cache(state),
                lat,
                lng,
                snap_distance_m=settings.snap_distance_m,
                near_boundary_m=settings.near_boundary_m,
            )
        if found is None:
            raise Unprocessable(
                "This location is outside the service area. Please choose a spot inside a ward we serve.",
                message_vi="Vị trí này nằm ngoài khu vực phục vụ. Vui lòng chọn một điểm trong phường/xã được hỗ trợ.",
                code="outside_service_area",
                details={"lat": lat, "lng": lng, "snap_distance_m": settings.snap_distance_m},
            )
        return LookupOut(
            ward=_ref(found.ward),
            ancestors=[_ref(a) for a in found.ancestors],
            snapped=found.snapped,
            distance_m=found.distance_m,
            near_boundary=found.near_boundary,
        )

    @get("", security=PUBLIC, responses=errors(400, 404), operation_id="listAreas")
    async def list_areas(
        self,
        database: NamedDependency[Database],
        parent: FromQuery[Annotated[str | None, Parameter(max_length=64)]] = None,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=1000)]] = 200,
        cursor: Cursor = None,
    ) -> AreaPage:
        """The children of `parent` (the top-level areas when absent), by code, a page at a time."""
        (after,) = pagination.decode(cursor, tuple[str]) if cursor else (None,)
        async with database.connect() as conn:
            if parent is not None and not await tree.exists(conn, parent):
                raise _not_found(parent)
            nodes, total = await tree.children(conn, parent, limit=limit + 1, after=after)
        page, next_cursor = pagination.page(nodes, limit, lambda n: (n.code,))
        return AreaPage([_area(n) for n in page], total, next_cursor)

    @get("/{code:str}", security=PUBLIC, responses=errors(404), operation_id="getArea")
    async def get_area(
        self,
        code: FromPath[Annotated[str, Parameter(max_length=64)]],
        database: NamedDependency[Database],
        geometry: FromQuery[bool] = False,
    ) -> AreaDetailOut:
        """One area with its ancestors; `?geometry=true` adds its boundary as GeoJSON."""
        async with database.connect() as conn:
            found = await tree.detail(conn, code, geometry=geometry)
        if found is None:
            raise _not_found(code)
        return AreaDetailOut(
            area=_area(found.area),
            ancestors=[_ref(a) for a in found.ancestors],
            children=found.children,
            geometry=found.geometry,
        )


def _not_found(code: str) -> NotFound:
    return NotFound(
        f"No area has the code {code}.",
        message_vi=f"Không có khu vực nào mã {code}.",
        code="area_not_found",
        details={"code": code},
    )
