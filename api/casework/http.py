"""HTTP face of the case workflow: actions, the officers' queue, figures, exports and map tiles."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.guards import roles
from api.access.tokens import Principal
from api.casework import export, queue, service, stats, tiles
from api.casework.filters import CaseFilter, check_area
from api.core.db import Database
from api.core.openapi import errors
from api.reports import queries

ActionName = Literal["acknowledge", "start", "resolve", "reject", "transfer", "merge", "assign", "comment"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]

casework = roles("officer", "leader")
leaders = roles("leader", "admin")


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    """One staff action. `message` is public (shown and pushed to the resident), `note` staff-only.
    reject needs `reason` from the list; transfer needs `ward` and `reason`; merge needs `into`
    (another report's code); assign needs `assignee`. `version` (optional) makes the action fail
    with 409 if the case changed since the caller read it."""

    action: ActionName
    message: Text | None = None
    note: Text | None = None
    reason: Short | None = None
    media_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)] = []
    ward: Short | None = None
    into: Short | None = None
    assignee: uuid.UUID | None = None
    version: Annotated[int, msgspec.Meta(ge=0)] | None = None


class ActionOut(msgspec.Struct):
    code: str
    action: str
    status: str
    from_status: str
    ward: str | None
    version: int
    assignee: uuid.UUID | None
    event_id: uuid.UUID
    allowed: list[str]


class QueueItem(msgspec.Struct):
    code: str
    status: str
    category: str
    ward: str | None
    description: str
    address: str | None
    created_at: datetime
    ack_due_at: datetime | None
    resolve_due_at: datetime | None
    due_at: datetime | None
    overdue: bool
    near_boundary: bool
    assignee: uuid.UUID | None
    follower_count: int
    version: int
    lat: float | None
    lng: float | None


class QueueOut(msgspec.Struct):
    items: list[QueueItem]
    counts: dict[str, int]
    next_cursor: str | None = None


class StatsRow(msgspec.Struct):
    key: str | None
    received: int
    open: int
    overdue: int
    resolved: int
    resolved_on_time: int
    resolved_on_time_pct: float | None
    median_ack_hours: float | None
    median_resolve_hours: float | None
    reopen_rate: float | None
    mean_rating: float | None
    ratings: int


class StatsOut(msgspec.Struct):
    group_by: str
    area: str | None
    date_from: date | None
    date_to: date | None
    groups: list[StatsRow]


StatusQ = FromQuery[Annotated[str | None, Parameter(max_length=200)]]
CategoryQ = FromQuery[Annotated[str | None, Parameter(max_length=500)]]


def _statuses(status: str | None) -> list[str]:
    """A comma list of statuses (and the `open`/`closed` groups), as GET /v1/reports reads it; 400 else."""
    return queries.parse_filter(
        near=None, radius=None, bbox=None, status=status, category=None, ward=None, since=None, q=None
    ).statuses


def _categories(category: str | None) -> list[str]:
    return [c.strip() for c in (category or "").split(",") if c.strip()]


def _nfc(value: str | None) -> str | None:
    return None if value is None else unicodedata.normalize("NFC", value).strip() or None


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
                message=_nfc(data.message),
                note=_nfc(data.note),
                reason=_nfc(data.reason),
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

    @get("/queue", responses=errors(401, 403, 422), operation_id="officerQueue")
    async def queue(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        status: StatusQ = None,
        category: CategoryQ = None,
        overdue: FromQuery[bool | None] = None,
        near_boundary: FromQuery[bool | None] = None,
        assigned: FromQuery[Literal["me", "none"] | None] = None,
        cursor: FromQuery[Annotated[str | None, Parameter(max_length=200)]] = None,
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


async def _export_filter(
    session: AsyncSession,
    principal: Principal,
    *,
    near: str | None,
    radius: float | None,
    bbox: str | None,
    status: str | None,
    category: str | None,
    ward: str | None,
    since: datetime | None,
    q: str | None,
    area: str | None,
    date_from: date | None,
    date_to: date | None,
    overdue: bool | None,
    near_boundary: bool | None,
) -> CaseFilter:
    """The public list's filters (parsed and rendered by api.reports.queries, the same code as
    GET /v1/reports) plus the staff ones; a foreign or unknown `area`/`ward` is 404 before any byte."""
    for code in (area, ward):
        if code:
            await check_area(session, principal, code)
    listed = queries.parse_filter(
        near=near,
        radius=radius,
        bbox=bbox,
        status=status,
        category=category,
        ward=ward,
        since=since,
        q=_nfc(q),
    )
    return CaseFilter(
        area=area,
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
        media_type="text/csv; charset=utf-8",
    )
    async def export_csv(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
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
    ) -> Stream:
        """Your in-scope cases as CSV (UTF-8 with BOM), streamed. Filters: those of GET /v1/reports
        (near, radius, bbox, status as a comma list with open/closed, category, ward, since, q) plus
        `area`, `from`/`to` (local dates), `overdue`, `near_boundary`."""
        f = await _export_filter(
            session,
            principal,
            near=near,
            radius=radius,
            bbox=bbox,
            status=status,
            category=category,
            ward=ward,
            since=since,
            q=q,
            area=area,
            date_from=date_from,
            date_to=date_to,
            overdue=overdue,
            near_boundary=near_boundary,
        )
        return Stream(
            export.csv_chunks(database, principal, f),
            media_type="text/csv; charset=utf-8",
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
    ) -> Stream:
        """Your in-scope cases as a GeoJSON FeatureCollection, streamed; the same filters as the CSV."""
        f = await _export_filter(
            session,
            principal,
            near=near,
            radius=radius,
            bbox=bbox,
            status=status,
            category=category,
            ward=ward,
            since=since,
            q=q,
            area=area,
            date_from=date_from,
            date_to=date_to,
            overdue=overdue,
            near_boundary=near_boundary,
        )
        return Stream(
            export.geojson_chunks(database, principal, f),
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
        if ext != "mvt" or not dot or not y_text.isdigit():
            raise tiles._bad_tile()
        f = CaseFilter(statuses=_statuses(status), categories=_categories(category))
        data = await tiles.tile(session, principal, z, x, int(y_text), f)
        return Response(
            data,
            media_type="application/vnd.mapbox-vector-tile",
            headers={"Cache-Control": "private, max-age=30"},
        )
