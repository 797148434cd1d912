"""Admin endpoints for categories, agencies and holidays (thin: rules in `api.catalogue.service`)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.guards import admin_only
from api.catalogue import service as catalog
from api.catalogue.schemas import (
    AgencyIn,
    AgencyList,
    AgencyOut,
    CategoryIn,
    CategoryList,
    CategoryOut,
    CategoryPatch,
    HolidayIn,
    HolidayList,
    HolidayOut,
    PublicCategoryList,
    RouteOut,
    RoutesIn,
)
from api.core import clock
from api.core.errors import wants_english
from api.core.openapi import PUBLIC, errors
from api.core.pagination import Cursor


def category_out(row: dict[str, Any]) -> CategoryOut:
    return CategoryOut(
        code=row["code"],
        name_vi=row["name_vi"],
        name_en=row["name_en"],
        group_code=row.get("group_code"),
        icon=row.get("icon"),
        photo_required=bool(row.get("photo_required")),
        questions=row["questions"],
        ack_hours=row["ack_hours"],
        resolve_value=row["resolve_value"],
        resolve_unit=row["resolve_unit"],
        clock=row["clock"],
        nearby_radius_m=row.get("nearby_radius_m"),
        active=bool(row.get("active", True)),
        sort=row.get("sort") or 0,
        routes=[RouteOut(r["area"], r["agency"]) for r in row["routes"]],
    )


class CategoriesAdminController(Controller):
    path = "/v1/admin/categories"
    tags = ["admin"]
    guards = [admin_only]

    @get("", responses=errors(401, 403), operation_id="adminListCategories")
    async def list_categories(self, session: NamedDependency[AsyncSession]) -> CategoryList:
        """Every category, active or not, with deadlines and routes."""
        return CategoryList([category_out(r) for r in await catalog.list_categories(session)])

    @post("", responses=errors(401, 403, 409, 422), operation_id="adminCreateCategory")
    async def create_category(
        self, data: JSONBody[CategoryIn], session: NamedDependency[AsyncSession]
    ) -> CategoryOut:
        """A new category: names, photo rule, questions, acknowledge/resolve deadlines."""
        return category_out(await catalog.create_category(session, msgspec.to_builtins(data)))

    @patch("/{code:str}", responses=errors(401, 403, 404, 422), operation_id="adminUpdateCategory")
    async def update_category(
        self, code: FromPath[str], data: JSONBody[CategoryPatch], session: NamedDependency[AsyncSession]
    ) -> CategoryOut:
        """Change a category; deadlines apply to cases created from now on."""
        return category_out(await catalog.update_category(session, code, msgspec.to_builtins(data)))

    @put("/{code:str}/routes", responses=errors(401, 403, 404, 422), operation_id="adminSetCategoryRoutes")
    async def set_routes(
        self, code: FromPath[str], data: JSONBody[RoutesIn], session: NamedDependency[AsyncSession]
    ) -> CategoryOut:
        """Replace the category's routes: its cases in wards under `area` go to `agency`."""
        pairs = [(r.area, r.agency) for r in data.routes]
        return category_out(await catalog.set_routes(session, code, pairs))


class AgenciesAdminController(Controller):
    path = "/v1/admin/agencies"
    tags = ["admin"]
    guards = [admin_only]

    @get("", responses=errors(401, 403), operation_id="adminListAgencies")
    async def list_agencies(self, session: NamedDependency[AsyncSession]) -> AgencyList:
        """Agencies that categories can be routed to (power company, water company…)."""
        return AgencyList([AgencyOut(**r) for r in await catalog.list_agencies(session)])

    @put("/{code:str}", responses=errors(401, 403), operation_id="adminPutAgency")
    async def put_agency(
        self,
        code: FromPath[Annotated[str, Parameter(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]],
        data: JSONBody[AgencyIn],
        session: NamedDependency[AsyncSession],
    ) -> AgencyOut:
        """Create or rename an agency."""
        row = await catalog.upsert_agency(session, code, data.name_vi, data.name_en)
        return AgencyOut(**row)


class HolidaysAdminController(Controller):
    path = "/v1/admin/holidays"
    tags = ["admin"]
    guards = [admin_only]

    @get("", responses=errors(400, 401, 403), operation_id="adminListHolidays")
    async def list_holidays(
        self,
        session: NamedDependency[AsyncSession],
        year: FromQuery[Annotated[int | None, Parameter(ge=2000, le=2100)]] = None,
        cursor: Cursor = None,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=500)]] = 100,
    ) -> HolidayList:
        """The year's days off and extra working days on the effective calendar (default: this year),
        by date: public holidays and make-up days of the `holidays` package (`source` holidays) and
        the admins' entries (`source` admin, which win on the same date). Ordinary weekends are off
        and ordinary weekdays working, and are not listed."""
        when = year if year is not None else clock.local_date(clock.now_utc()).year
        rows, next_cursor = await catalog.list_holidays(session, when, cursor=cursor, limit=limit)
        return HolidayList([HolidayOut(**r) for r in rows], next_cursor)

    @post("", responses=errors(401, 403, 409), operation_id="adminAddHoliday")
    async def add_holiday(
        self, data: JSONBody[HolidayIn], session: NamedDependency[AsyncSession]
    ) -> HolidayOut:
        """Add a day off, or a working day (a make-up Saturday), with its reason and decision;
        deadlines computed from now on count it. 409 `calendar_conflict` if the date has an entry
        already, or the calendar already says the same of it."""
        row = await catalog.add_holiday(
            session, data.day, data.name, kind=data.kind, reason=data.reason, decision=data.decision
        )
        return HolidayOut(**row)

    @delete(
        "/{day:date}", status_code=204, responses=errors(401, 403, 404), operation_id="adminRemoveHoliday"
    )
    async def remove_holiday(self, day: FromPath[date], session: NamedDependency[AsyncSession]) -> None:
        """Remove an admin's entry: the day is again what the package and the weekdays make it."""
        await catalog.remove_holiday(session, day)


class CategoriesController(Controller):
    path = "/v1/categories"
    tags = ["categories"]

    @get("", security=PUBLIC, operation_id="listCategories")
    async def list_categories(
        self, request: Request[Any, Any, Any], session: NamedDependency[AsyncSession]
    ) -> Response[PublicCategoryList]:
        """Active categories in display order, in the language of `Accept-Language` (vi or en)."""
        body = await catalog.public_categories(session, english=wants_english(request))
        encoded = msgspec.json.encode(body)
        etag = '"' + hashlib.sha256(encoded).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=300", "Vary": "Accept-Language"}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(None, status_code=304, headers=headers)  # type: ignore[arg-type]
        return Response(body, headers=headers)
