"""HTTP face of the case workflow: actions, the officers' queue, figures, exports and map tiles."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.guards import roles
from api.access.tokens import Principal
from api.casework import export, queue, service, stats, tiles
from api.casework.filters import CaseFilter, check_areas
from api.casework.schemas import ActionIn, ActionOut, QueueItem, QueueOut, StatsOut, StatsRow
from api.core.db import Database
from api.core.openapi import errors
from api.core.pagination import Cursor
from api.core.streams import started
from api.core.text import nfc
from api.reports import queries

casework = roles("officer", "leader")
leaders = roles("leader", "admin")


StatusQ = FromQuery[Annotated[str | None, Parameter(max_length=200)]]
CategoryQ = FromQuery[Annotated[str | None, Parameter(max_length=500)]]


def _statuses(status: str | None) -> list[str]:
    """A comma list of statuses (and the `open`/`closed` groups), as GET /v1/reports reads it; 400 else."""
    return queries.parse_filter(
        near=None, radius=None, bbox=None, status=status, category=None, ward=None, since=None, q=None
    ).statuses


def _categories(category: str | None) -> list[str]:
    return [c.strip() for c in (category or "").split(",") if c.strip()]


class CaseActionsController(Controller):
    path = "/v1/reports"
    tags = ["workflow"]
    guards = [casework]

    @post(
        "/{code:str}/actions",
        status_code=200,
        responses=errors(401, 403, 404, 409, 422),
        operation_id="reportAction",
    )
    async def act(
        self,
        code: FromPath[str],
        data: JSONBody[ActionIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> ActionOut:
        """Act on a case in your scope (acknowledge, start, resolve, reject, transfer, merge, assign,
        comment). A move the state machine does not allow is 409 `invalid_transition` with the allowed
        actions in `details.allowed`; a case outside your scope is 404."""
        out = await service.act(
            session,
            principal,
            code,
            service.Action(
                action=data.action,
                message=nfc(data.message),
                note=nfc(data.note),
                reason=nfc(data.reason),
                media_ids=list(data.media_ids),
                ward=data.ward,
                into=data.into,
                assignee=data.assignee,
                version=data.version,
            ),
        )
        return ActionOut(
            code=out.code,
            action=data.action,
            status=out.status,
            from_status=out.from_status,
            ward=out.ward,
            version=out.version,
            assignee=out.assignee,
            event_id=out.event_id,
            allowed=out.allowed,
        )


class OfficerQueueController(Controller):
    path = "/v1/officer"
    tags = ["workflow"]
    guards = [casework]

    @get("/queue", responses=errors(400, 401, 403), operation_id="officerQueue")
    async def queue(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        status: StatusQ = None,
        category: CategoryQ = None,
        overdue: FromQuery[bool | None] = None,
        near_boundary: FromQuery[bool | None] = None,
        assigned: FromQuery[Literal["me", "none"] | None] = None,
        cursor: Cursor = None,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=200)]] = 50,
    ) -> QueueOut:
        """Your in-scope cases, what is due first (open ones unless `status` says otherwise), with
        counts per status over the same filters, and `next_cursor` for the next page."""
        f = CaseFilter(
            statuses=_statuses(status),
            categories=_categories(category),
            overdue=overdue,
            near_boundary=near_boundary,
            assigned=assigned,
            open_only=True,
        )
        items, next_cursor, counts = await queue.queue(session, principal, f, cursor=cursor, limit=limit)
        return QueueOut(
            items=[
                QueueItem(
                    code=i.code,
                    status=i.status,
                    category=i.category_code,
                    ward=i.ward_code,
                    description=i.description,
                    address=i.address,
                    created_at=i.created_at,
                    ack_due_at=i.ack_due_at,
                    resolve_due_at=i.resolve_due_at,
                    due_at=i.due_at,
                    overdue=i.overdue,
                    near_boundary=i.near_boundary,
                    assignee=i.assignee_id,
                    follower_count=i.follower_count,
                    version=i.version,
                    lat=i.lat,
                    lng=i.lng,
                )
                for i in items
            ],
            counts=counts,
            next_cursor=next_cursor,
        )


AreaQ = Annotated[str | None, QueryParameter(max_length=64)]
FromQ = Annotated[date | None, QueryParameter(name="from")]
ToQ = Annotated[date | None, QueryParameter(name="to")]


def provide_export_filter(
    near: FromQuery[Annotated[str | None, Parameter(max_length=64)]] = None,
    radius: FromQuery[float | None] = None,
    bbox: FromQuery[Annotated[str | None, Parameter(max_length=128)]] = None,
    status: StatusQ = None,
    category: CategoryQ = None,
    ward: AreaQ = None,
    since: FromQuery[datetime | None] = None,
    q: FromQuery[Annotated[str | None, Parameter(max_length=200)]] = None,
    area: AreaQ = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
    overdue: FromQuery[bool | None] = None,
    near_boundary: FromQuery[bool | None] = None,
) -> CaseFilter:
    """The exports' filters: those of GET /v1/reports (parsed and rendered by api.reports.queries, the
    same code) plus `area`, `from`/`to` (local dates), `overdue`, `near_boundary`. A foreign or unknown
    `area`/`ward` is 404 before any byte is sent (`check_areas`)."""
    listed = queries.parse_filter(
        near=near,
        radius=radius,
        bbox=bbox,
        status=status,
        category=category,
        ward=ward,
        since=since,
        q=nfc(q),
    )
    return CaseFilter(
        area=area,
        ward=ward,
        date_from=date_from,
        date_to=date_to,
        overdue=overdue,
        near_boundary=near_boundary,
        extra_conds=list(queries.where(listed)),
    )


class FiguresController(Controller):
    path = "/v1"
    tags = ["figures"]
    guards = [leaders]
    dependencies = {"case_filter": Provide(provide_export_filter, sync_to_thread=False)}

    @get("/stats", responses=errors(401, 403, 404), operation_id="stats")
    async def stats(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        area: AreaQ = None,
        date_from: FromQ = None,
        date_to: ToQ = None,
        group_by: FromQuery[Literal["ward", "category", "day"]] = "ward",
        category: CategoryQ = None,
    ) -> StatsOut:
        """Figures per ward, category or day over the reports received from `from` to `to` (local
        dates, inclusive) in your scope; `area` must be within your scope (else 404)."""
        f = CaseFilter(area=area, date_from=date_from, date_to=date_to, categories=_categories(category))
        rows = await stats.stats(session, principal, f, group_by)
        return StatsOut(
            group_by=group_by,
            area=area,
            date_from=date_from,
            date_to=date_to,
            groups=[StatsRow(**{k: getattr(r, k) for k in StatsRow.__struct_fields__}) for r in rows],
        )

    @get(
        "/export.csv",
        responses=errors(401, 403, 404),
        operation_id="exportCsv",
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
    )
    async def export_csv(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        case_filter: NamedDependency[CaseFilter],
    ) -> Stream:
        """Your in-scope cases as CSV (UTF-8 with BOM), streamed. Filters: those of GET /v1/reports
        (near, radius, bbox, status as a comma list with open/closed, category, ward, since, q) plus
        `area`, `from`/`to` (local dates), `overdue`, `near_boundary`."""
        await check_areas(session, principal, case_filter)
        return Stream(
            await started(export.csv_chunks(database, principal, case_filter)),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="phananh-export.csv"'},
        )

    @get(
        "/export.geojson",
        responses=errors(401, 403, 404),
        operation_id="exportGeojson",
        media_type="application/geo+json",
    )
    async def export_geojson(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        case_filter: NamedDependency[CaseFilter],
    ) -> Stream:
        """Your in-scope cases as a GeoJSON FeatureCollection, streamed; the same filters as the CSV."""
        await check_areas(session, principal, case_filter)
        return Stream(
            await started(export.geojson_chunks(database, principal, case_filter)),
            media_type="application/geo+json",
            headers={"Content-Disposition": 'attachment; filename="phananh-export.geojson"'},
        )

    @get(
        "/tiles/{z:int}/{x:int}/{tile_y:str}",
        responses=errors(401, 403, 404),
        operation_id="reportTile",
        media_type="application/vnd.mapbox-vector-tile",
    )
    async def tile(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        z: FromPath[int],
        x: FromPath[int],
        tile_y: FromPath[str],
        status: StatusQ = None,
        category: CategoryQ = None,
    ) -> Response[bytes]:
        """Map tile `{z}/{x}/{y}.mvt` (layer `reports`: code, status, category, ward, overdue, open)
        of your in-scope cases."""
        y_text, dot, ext = tile_y.partition(".")
        if ext != "mvt" or not dot or not (y_text.isascii() and y_text.isdigit()):
            raise tiles._bad_tile()
        f = CaseFilter(statuses=_statuses(status), categories=_categories(category))
        data = await tiles.tile(session, principal, z, x, int(y_text), f)
        return Response(
            data,
            media_type="application/vnd.mapbox-vector-tile",
            headers={"Cache-Control": "private, max-age=30"},
        )
