"""HTTP face of the case workflow: actions, the officers' queue and its live events, figures, exports
and map tiles."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.bearer import ticket_holder
from api.access.guards import roles
from api.access.tokens import Principal, encode_ticket
from api.casework import export, live, queue, service, stats, tiles
from api.casework.filters import CaseFilter, check_areas, period_window
from api.casework.schemas import (
    ActionIn,
    ActionOut,
    Assignable,
    OptionsOut,
    QueueItem,
    QueueOut,
    StatsOut,
    StatsRow,
    TicketOut,
    WardName,
)
from api.core import clock
from api.core.db import Database
from api.core.errors import Unauthorized
from api.core.openapi import errors
from api.core.pagination import Cursor
from api.core.settings import Settings
from api.core.streams import started
from api.core.text import nfc
from api.reports import queries

casework = roles("officer", "leader")
leaders = roles("leader", "admin")
# figures, exports and the map: the scope rule limits what each one sees
staff = roles("officer", "leader", "admin")


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
        comment, hold, resume). hold parks the case as `on_hold` with a `reason` (waiting_agency,
        waiting_resident): its resolve clock pauses, and resume moves the deadline by the working
        time spent on hold. A move the state machine does not allow is 409 `invalid_transition` with the allowed
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

    @get("/{code:str}/actions", responses=errors(401, 403, 404), operation_id="reportActionOptions")
    async def options(
        self,
        code: FromPath[str],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> OptionsOut:
        """The actions you may take on a case in your scope now, with the reasons and assignees to
        choose from (a case outside your scope is 404)."""
        o = await service.options(session, principal, code)
        return OptionsOut(
            code=o.code,
            status=o.status,
            version=o.version,
            allowed=o.allowed,
            reject_reasons=o.reject_reasons,
            transfer_reasons=o.transfer_reasons,
            assignees=[Assignable(i, n, r) for i, n, r in o.assignees],
            wards=[WardName(c, n) for c, n in o.wards],
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
                    ward_name=i.ward_name,
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


def provide_live(state: State) -> live.LiveCases:
    hub: live.LiveCases = state.live
    return hub


class LiveQueueController(Controller):
    """New and changed cases of your scope as server-sent events, for the console's queue and map.

    A browser's EventSource cannot send an Authorization header: it first asks for a stream ticket
    (`POST /v1/queue/events/ticket`, with the bearer token; valid for a minute, of no use but opening
    a stream) and opens `GET /v1/queue/events?ticket=…`. A client that can stream with fetch sends
    its bearer token instead, as for any call."""

    path = "/v1/queue"
    tags = ["workflow"]
    dependencies = {"live_cases": Provide(provide_live, sync_to_thread=False)}

    @post(
        "/events/ticket",
        status_code=200,
        guards=[staff],
        responses=errors(401, 403),
        operation_id="queueEventsTicket",
    )
    async def ticket(
        self, principal: NamedDependency[Principal], settings: NamedDependency[Settings]
    ) -> TicketOut:
        """A stream ticket for `GET /v1/queue/events?ticket=…` (EventSource), valid for
        `expires_in` seconds; ask for a new one to reconnect."""
        ticket = encode_ticket(principal, settings.jwt_secret, settings.stream_ticket_ttl_s)
        return TicketOut(ticket, settings.stream_ticket_ttl_s, f"{self.path}/events?ticket={ticket}")

    @get(
        "/events",
        responses=errors(401, 403, 503),
        operation_id="queueEvents",
        media_type="text/event-stream",
    )
    async def events(
        self,
        request: Request[Any, Any, Any],
        database: NamedDependency[Database],
        settings: NamedDependency[Settings],
        live_cases: NamedDependency[live.LiveCases],
        ticket: FromQuery[Annotated[str | None, Parameter(max_length=2000)]] = None,
    ) -> Stream:
        """Server-sent events (`text/event-stream`): `ready` once listening (load the queue then),
        `case` for each change of a case in your scope (JSON: event, code, status, version, ward,
        agency, public, from_ward; `id:` the event's id), a comment every few seconds, `resync` when changes
        may have been missed (reload the queue), `bye` before the server closes the stream (shutdown,
        or the stream's age reached the access-token lifetime: reconnect with a new ticket). Too many
        streams on this server: 503 `too_many_streams`."""
        user = request.scope.get("user")
        if isinstance(user, Principal):
            principal = user
        elif ticket:
            principal = ticket_holder(ticket, settings.jwt_secret)
        else:
            raise Unauthorized("Sign-in is required.", message_vi="Cần đăng nhập.")
        sub = await live.open_stream(database, live_cases, principal)
        return Stream(
            live.stream(
                live_cases, sub, keepalive_s=settings.live_keepalive_s, max_age_s=settings.access_token_ttl_s
            ),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
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
    period: FromQuery[Annotated[str | None, Parameter(max_length=8)]] = None,
    overdue: FromQuery[bool | None] = None,
    near_boundary: FromQuery[bool | None] = None,
) -> CaseFilter:
    """The figures' and exports' filters: those of GET /v1/reports (parsed by api.reports.queries, the
    same code) plus `area`, `from`/`to` (local dates) or `period` (today, Nd, Nw: the last N local days
    or weeks; `from`/`to` win), `overdue`, `near_boundary`. A foreign or unknown `area`/`ward` is 404
    before any byte is sent (`check_areas`)."""
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
    if period:
        first, last = period_window(period, clock.local_date(clock.now_utc()))
        date_from, date_to = date_from or first, date_to or last
    # statuses and categories as the case filter reads them (the figures list the categories named)
    statuses, categories = listed.statuses, listed.categories
    listed.statuses, listed.categories = [], []
    return CaseFilter(
        statuses=statuses,
        categories=categories,
        area=area,
        ward=ward,
        date_from=date_from,
        date_to=date_to,
        overdue=overdue,
        near_boundary=near_boundary,
        extra_conds=list(queries.where(listed)),
    )


def _row(r: stats.Row) -> StatsRow:
    return StatsRow(**{k: getattr(r, k) for k in StatsRow.__struct_fields__})


class StatsController(Controller):
    """Figures and exports for every staff role: officers, leaders and admins each see their scope."""

    path = "/v1"
    tags = ["figures"]
    guards = [staff]
    dependencies = {"case_filter": Provide(provide_export_filter, sync_to_thread=False)}

    @get("/stats", responses=errors(400, 401, 403, 404), operation_id="stats")
    async def stats(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        case_filter: NamedDependency[CaseFilter],
        group_by: FromQuery[stats.GroupBy] = "ward",
    ) -> StatsOut:
        """Figures per ward, category, local day or local week (from Monday; `key` its first day) of the
        reports in your scope that the filters select (those of the exports: status, category, ward,
        area, from/to or period, overdue…), with names beside codes. Every ward of your scope, every
        active category and every day or week of the window is listed, with zeros when nothing
        matched; `total` is the same figures over everything selected."""
        out = await stats.figures(session, principal, case_filter, group_by)
        return StatsOut(
            group_by=group_by,
            area=case_filter.area,
            date_from=out.date_from,
            date_to=out.date_to,
            groups=[_row(r) for r in out.groups],
            total=_row(out.total),
            ward=case_filter.ward,
        )

    @get(
        "/export.csv",
        responses=errors(400, 401, 403, 404),
        operation_id="exportCsv",
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
    )
    async def export_csv(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        case_filter: NamedDependency[CaseFilter],
        state: State,
    ) -> Stream:
        """Your in-scope cases as CSV (UTF-8 with BOM, for spreadsheet programs), streamed: ward and
        category names beside their codes, times in the local zone with their offset. The filters
        of GET /v1/stats."""
        await check_areas(session, principal, case_filter)
        turn = await state.export_gate.ticket()  # or 503 service_busy, before the answer starts
        return Stream(
            await started(export.csv_chunks(database, principal, case_filter, turn=turn)),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="phananh-export.csv"'},
        )

    @get(
        "/export.geojson",
        responses=errors(400, 401, 403, 404),
        operation_id="exportGeojson",
        media_type="application/geo+json",
    )
    async def export_geojson(
        self,
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        database: NamedDependency[Database],
        case_filter: NamedDependency[CaseFilter],
        state: State,
    ) -> Stream:
        """Your in-scope cases as a GeoJSON FeatureCollection, streamed; the columns and filters of
        the CSV."""
        await check_areas(session, principal, case_filter)
        turn = await state.export_gate.ticket()  # or 503 service_busy, before the answer starts
        return Stream(
            await started(export.geojson_chunks(database, principal, case_filter, turn=turn)),
            media_type="application/geo+json",
            headers={"Content-Disposition": 'attachment; filename="phananh-export.geojson"'},
        )


TILE_TYPE = "application/vnd.mapbox-vector-tile"
# a live map: the browser may reuse a tile briefly, then revalidates it by its ETag; never shared
TILE_CACHE = "private, max-age=15, must-revalidate"


def _etag(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'


class MapController(Controller):
    path = "/v1"
    tags = ["figures"]
    guards = [staff]

    @get(
        "/tiles/{z:int}/{x:int}/{tile_y:str}",
        responses=errors(401, 403, 404),
        operation_id="reportTile",
        media_type=TILE_TYPE,
    )
    async def tile(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        z: FromPath[int],
        x: FromPath[int],
        tile_y: FromPath[str],
        status: StatusQ = None,
        category: CategoryQ = None,
        ward: AreaQ = None,
        date_from: FromQ = None,
        date_to: ToQ = None,
        overdue: FromQuery[bool | None] = None,
    ) -> Response[bytes]:
        """Map tile `{z}/{x}/{y}.mvt` of your in-scope cases. Layer `reports`: below zoom 14 clusters
        (`cluster`, `count`, `open_count`, `overdue_count`, `code` of a lone case), from zoom 14 one
        point per case (`code`, `status`, `category`, `ward`, `overdue`, `open`, `deadline_state`:
        on_time, due_soon, overdue or closed). Layer `wards`: the boundaries of your wards in the tile
        (`code`, `name`). Filters (`status`, `category`, `ward`, `from`/`to` local dates, `overdue`)
        apply to `reports`; a `ward` outside your scope is 404. A tile with no feature is 204 with no
        body; every answer carries an ETag (If-None-Match answers 304)."""
        y_text, dot, ext = tile_y.partition(".")
        if ext != "mvt" or not dot or not (y_text.isascii() and y_text.isdigit()):
            raise tiles.bad_tile()
        f = CaseFilter(
            statuses=_statuses(status),
            categories=_categories(category),
            area=ward,
            date_from=date_from,
            date_to=date_to,
            overdue=overdue,
        )
        data = await tiles.tile(
            session, principal, z, x, int(y_text), f, due_soon=timedelta(seconds=settings.due_soon_s)
        )
        etag = _etag(data)
        headers = {"Cache-Control": TILE_CACHE, "ETag": etag, "Vary": "Authorization"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(b"", status_code=304, headers=headers)
        return Response(data, status_code=200 if data else 204, media_type=TILE_TYPE, headers=headers)
