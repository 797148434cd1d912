"""Public area endpoints: which ward answers for a spot, and the area tree.

The lookup is a hot route (every report, every map tap): declared once as parse → call → render
(`LOOKUP`), answered the same by its Litestar handler and by the fast path of `phananh serve`
(api/core/fastpath.py). It borrows a raw asyncpg connection from the app's pool (no ORM session,
asyncpg keeps the statement prepared), makes one round trip, and takes the ward's ancestors from an
in-process cache.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter

from api.core import pagination
from api.core.db import Database
from api.core.deps import lineage_cache
from api.core.errors import NotFound, Unprocessable, invalid, validation_problem
from api.core.fastpath import Answer, HotRoute, Incoming, documented, through_litestar
from api.core.openapi import PUBLIC, errors, success
from api.core.pagination import Cursor
from api.core.settings import Settings
from geo import AreaNode, AreaRef, Assignment, assign_fast, tree
from geo.coords import Lat, Lng


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


class LookupIn(msgspec.Struct):
    lat: Lat
    lng: Lng


_QUERY = {"lat": Lat, "lng": Lng}


def parse_lookup(request: Incoming) -> LookupIn:
    """`lat` and `lng` from the query string (other parameters are ignored; of a repeated one the
    last counts, as in Litestar). Query values are text, so `lat=10.9` is the number 10.9."""
    values = dict(parse_qsl(request.query.decode("latin-1"), keep_blank_values=True))
    try:
        return msgspec.convert(values, LookupIn, strict=False)
    except msgspec.ValidationError as exc:
        raise invalid([validation_problem(exc, source="query")]) from None


async def lookup(state: State, point: LookupIn) -> Assignment:
    """The ward responsible for a point (a 422 when there is none within the snap distance)."""
    settings: Settings = state.settings
    database: Database = state.db
    async with database.driver() as conn:  # at most `lookup_connections` at once
        found = await assign_fast(
            conn,
            lineage_cache(state),
            point.lat,
            point.lng,
            snap_distance_m=settings.snap_distance_m,
            near_boundary_m=settings.near_boundary_m,
        )
    if found is None:
        raise Unprocessable(
            "This location is outside the service area. Please choose a spot inside a ward we serve.",
            message_vi="Vị trí này nằm ngoài khu vực phục vụ. Vui lòng chọn một điểm trong phường/xã được hỗ trợ.",
            code="outside_service_area",
            details={"lat": point.lat, "lng": point.lng, "snap_distance_m": settings.snap_distance_m},
        )
    return found


def render_lookup(found: Assignment) -> Answer:
    out = LookupOut(
        ward=_ref(found.ward),
        ancestors=[_ref(a) for a in found.ancestors],
        snapped=found.snapped,
        distance_m=found.distance_m,
        near_boundary=found.near_boundary,
    )
    return Answer(200, _encode(out))


_encode = msgspec.json.Encoder().encode


LOOKUP = HotRoute("GET", "/v1/areas/lookup", None, parse_lookup, lookup, render_lookup)


class AreasController(Controller):
    path = "/v1/areas"
    tags = ["areas"]

    @get(
        "/lookup",
        security=PUBLIC,
        responses={**success(200, LookupOut), **errors(400, 401, 422)},
        operation_id="lookupArea",
        operation_class=documented(query=_QUERY),
    )
    async def lookup(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """The ward responsible for a point, with its ancestors. A point in no ward (river, coast,
        gap) goes to the nearest ward within the snap distance; farther out is a 422."""
        return await through_litestar(LOOKUP, request)

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
