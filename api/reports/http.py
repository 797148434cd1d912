"""Reports over HTTP: submitting, tracking, lists and closing the loop (thin: parsing and shaping only)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
import segno
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.bearer import signed_in
from api.access.tokens import Principal
from api.core.deps import lineage_cache
from api.core.errors import http_error, invalid, validation_problem, wants_english
from api.core.fastpath import Answer, HotRoute, Incoming, documented, through_litestar
from api.core.openapi import PUBLIC, errors, success
from api.core.pagination import Cursor
from api.core.ratelimit import Limits
from api.core.settings import Settings
from api.core.text import nfc
from api.reports import followup as loop
from api.reports import queries, sql
from api.reports import service as submit
from api.reports.models import ReportAsR
from api.reports.schemas import MAX_BODY, IdempotencyKey, ReportCreated, ReportIn
from api.reports.views import ReportView, public_report_text, render
from api.reports.visibility import load_visible, normalise_code

GEOJSON = "application/geo+json"


class ListItem(msgspec.Struct):
    id: str
    code: str
    category: str
    category_name: str
    status: str
    description: str
    address: str | None
    lat: float
    lng: float
    ward: str
    ward_name: str
    follower_count: int
    created_at: datetime
    updated_at: datetime
    visibility: str | msgspec.UnsetType = msgspec.UNSET


class ReportList(msgspec.Struct):
    items: list[ListItem]
    next_cursor: str | None


class FollowState(msgspec.Struct):
    code: str
    following: bool
    follower_count: int


class ReopenIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=1000)]


class RatingIn(msgspec.Struct, forbid_unknown_fields=True):
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class ReportPatchIn(msgspec.Struct, forbid_unknown_fields=True):
    anonymous: bool | None = None  # hide (or show again) my name in the public view
    # a quick fix of the text: only while the report is new and within PHANANH_EDIT_WINDOW_MIN
    description: str | None = None
    address: str | None = None  # "" removes it


class StatusOut(msgspec.Struct):
    code: str
    status: str
    version: int


Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=100)]


def _item(row: Any, english: bool, *, own: bool = False) -> ListItem:
    """A list row: the resident's own text in their own list, the public's reading elsewhere."""
    if own:
        description, address = row.description, row.address
    else:
        description, address = public_report_text(
            row.description, row.address, row.public_description, row.public_address
        )
    return ListItem(
        id=str(row.id),
        code=row.code,
        category=row.category_code,
        category_name=row.category_en if english else row.category_vi,
        status=row.status,
        description=description,
        address=address,
        lat=round(float(row.lat), 6),
        lng=round(float(row.lng), 6),
        ward=row.ward_code,
        ward_name=row.ward_name,
        follower_count=row.follower_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        visibility=row.visibility if own else msgspec.UNSET,
    )


def _feature_collection(items: list[ListItem], next_cursor: str | None) -> dict[str, Any]:
    features = []
    for it in items:
        props = {k: v for k, v in msgspec.to_builtins(it).items() if k not in ("lat", "lng")}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [it.lng, it.lat]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features, "next_cursor": next_cursor}


class ReportsController(Controller):
    tags = ["reports"]

    @post(
        "/v1/reports",
        status_code=201,
        responses={**success(201, ReportCreated), **errors(400, 401, 409, 413, 415, 422, 429)},
        operation_id="submitReport",
        operation_class=documented(headers={"Idempotency-Key": IdempotencyKey}, body=ReportIn),
    )
    async def submit_report(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Report a problem. Retries with the same `Idempotency-Key` (or `client_id`) get the same answer."""
        return await through_litestar(SUBMIT, request)

    @get("/v1/reports", security=PUBLIC, responses=errors(400), operation_id="listReports")
    async def list_public(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[AsyncSession],
        near: Annotated[str | None, QueryParameter(name="near", max_length=64)] = None,
        radius: Annotated[float | None, QueryParameter(name="radius")] = None,
        bbox: Annotated[str | None, QueryParameter(name="bbox", max_length=128)] = None,
        status: Annotated[str | None, QueryParameter(name="status", max_length=200)] = None,
        category: Annotated[str | None, QueryParameter(name="category", max_length=500)] = None,
        ward: Annotated[str | None, QueryParameter(name="ward", max_length=64)] = None,
        since: Annotated[datetime | None, QueryParameter(name="since")] = None,
        q: Annotated[str | None, QueryParameter(name="q", max_length=200)] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> Response[Any]:
        """Public reports, newest first; `Accept: application/geo+json` gives a FeatureCollection."""
        f = queries.parse_filter(
            near=near,
            radius=radius,
            bbox=bbox,
            status=status,
            category=category,
            ward=ward,
            since=since,
            q=nfc(q),
        )
        conds = [*queries.where(f), sql.PUBLIC]
        rows, next_cursor = await queries.list_reports(session, conds=conds, cursor=cursor, limit=limit)
        english = wants_english(request)
        items = [_item(r, english) for r in rows]
        if GEOJSON in request.headers.get("accept", ""):
            return Response(_feature_collection(items, next_cursor), media_type=GEOJSON)
        return Response(ReportList(items, next_cursor))

    @get("/v1/me/reports", responses=errors(400, 401), operation_id="listMyReports")
    async def list_mine(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> ReportList:
        """The caller's own reports, newest first, whatever their visibility."""
        rows, next_cursor = await queries.list_reports(
            session, conds=[ReportAsR.reporter_id == principal.id], cursor=cursor, limit=limit
        )
        english = wants_english(request)
        return ReportList([_item(r, english, own=True) for r in rows], next_cursor)

    @get("/v1/reports/{code:str}", security=PUBLIC, responses=errors(404), operation_id="getReport")
    async def get_report(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        viewer: NamedDependency[Principal | None],
    ) -> ReportView:
        """One report: the public view, or the full view for its reporter and the staff in charge."""
        report, full = await load_visible(session, viewer, code)
        return await render(
            session, settings, report, full=full, viewer=viewer, english=wants_english(request)
        )

    @patch("/v1/reports/{code:str}", responses=errors(401, 403, 404, 409, 422), operation_id="updateMyReport")
    async def update_mine(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[ReportPatchIn],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> ReportView:
        """The reporter's own changes: their name shown or hidden (any time), or the description and
        address fixed (while the report is new and within `PHANANH_EDIT_WINDOW_MIN` minutes)."""
        report = await loop.update_own(
            session,
            settings,
            principal,
            code,
            anonymous=data.anonymous,
            description=data.description,
            address=data.address,
        )
        return await render(
            session, settings, report, full=True, viewer=principal, english=wants_english(request)
        )

    @get(
        "/v1/reports/{code:str}/qr.png",
        security=PUBLIC,
        responses=errors(404),
        operation_id="getReportQr",
        media_type="image/png",
    )
    async def qr(
        self,
        code: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        viewer: NamedDependency[Principal | None],
    ) -> Response[bytes]:
        """A QR code of the report's public link."""
        report, _ = await load_visible(session, viewer, code)
        buf = io.BytesIO()
        segno.make(public_link(settings, report.code), error="m").save(buf, kind="png", scale=6, border=2)
        return Response(
            buf.getvalue(), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
        )

    @post(
        "/v1/reports/{code:str}/follow",
        status_code=200,
        responses=errors(401, 404, 409),
        operation_id="followReport",
    )
    async def follow(
        self,
        code: FromPath[str],
        session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
    ) -> FollowState:
        """ "Me too": get this report's updates; the count feeds its priority."""
        report = await loop.follow(session, principal, code)
        return FollowState(report.code, True, report.follower_count)

    @delete(
        "/v1/reports/{code:str}/follow",
        status_code=200,
        responses=errors(401, 404),
        operation_id="unfollowReport",
    )
    async def unfollow(
        self,
        code: FromPath[str],
        session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
    ) -> FollowState:
        report = await loop.unfollow(session, principal, code)
        return FollowState(report.code, False, report.follower_count)

    @post(
        "/v1/reports/{code:str}/confirm",
        status_code=200,
        responses=errors(401, 403, 404, 409),
        operation_id="confirmReport",
    )
    async def confirm(
        self,
        code: FromPath[str],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> StatusOut:
        """The reporter confirms the fix; the case closes."""
        r = await loop.confirm(session, settings, principal, code)
        return StatusOut(r.code, r.status, r.version)

    @post(
        "/v1/reports/{code:str}/reopen",
        status_code=200,
        responses=errors(401, 403, 404, 409),
        operation_id="reopenReport",
    )
    async def reopen(
        self,
        code: FromPath[str],
        data: JSONBody[ReopenIn],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        principal: NamedDependency[Principal],
    ) -> StatusOut:
        """Not fixed: the reporter reopens it with a reason (within the reopen window)."""
        r = await loop.reopen(session, settings, principal, code, nfc(data.reason) or "")
        return StatusOut(r.code, r.status, r.version)

    @post(
        "/v1/reports/{code:str}/rating",
        status_code=200,
        responses=errors(401, 403, 404, 409),
        operation_id="rateReport",
    )
    async def rating(
        self,
        code: FromPath[str],
        data: JSONBody[RatingIn],
        session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
    ) -> StatusOut:
        """1–5 stars for the handling, with an optional comment; a new rating replaces the old."""
        r = await loop.rate(session, principal, code, data.stars, nfc(data.comment))
        return StatusOut(r.code, r.status, r.version)


def public_link(settings: Settings, code: str) -> str:
    return f"{settings.base_url}/r/{normalise_code(code)}"


@dataclass(frozen=True, slots=True)
class Submission:
    principal: Principal
    data: ReportIn
    idempotency_key: str | None
    client: str  # the address the per-network rate limit counts


def parse_submit(request: Incoming) -> Submission:
    """A signed-in caller's JSON report. The body is decoded strictly: a number must be a JSON number
    (`"lat": "10.9"` is a 400), the fields are ReportIn's and no others."""
    principal = signed_in(request.principal)
    media_type = (request.header(b"content-type") or "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise http_error(415, {"expected": "application/json"})
    problems = []
    key = request.header(b"idempotency-key")
    if key is not None:
        try:
            msgspec.convert(key, IdempotencyKey)
        except msgspec.ValidationError as exc:
            problems.append(validation_problem(exc, source="header", key="Idempotency-Key"))
    try:
        data = _decode(request.body)
    except msgspec.DecodeError as exc:  # malformed JSON, or not a ReportIn (ValidationError)
        problems.append(validation_problem(exc, source="body"))
    if problems:
        raise invalid(problems)
    return Submission(principal, data, key, request.client)


async def submit_new(state: State, it: Submission) -> submit.Outcome:
    limits: Limits = state.limits
    async with state.db.session() as session:
        return await submit.submit(
            session,
            state.settings,
            it.principal,
            it.data,
            idempotency_key=it.idempotency_key,
            lineage_cache=lineage_cache(state),
            limits=((limits.report_user, str(it.principal.id)), (limits.report_ip, it.client)),
        )


def render_submit(outcome: submit.Outcome) -> Answer:
    headers = ((b"idempotent-replayed", b"true"),) if outcome.replayed else ()
    return Answer(outcome.status_code, _encode(outcome.created()), headers)


SUBMIT = HotRoute("POST", "/v1/reports", MAX_BODY, parse_submit, submit_new, render_submit)
_decode = msgspec.json.Decoder(ReportIn).decode
_encode = msgspec.json.Encoder().encode
