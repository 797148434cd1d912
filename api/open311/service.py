"""Open311 records from our tables: services are categories, service requests are public reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Text, any_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.catalogue.models import Agency, Category
from api.core.errors import AppError
from api.core.inputs import check_instant
from api.core.status import CLOSED, OPEN, values
from api.reports import sql as reports_sql
from api.reports.models import ReportAsR, ReportEvent
from api.reports.views import public_event_text, public_report_text
from geo import Area

MAX_SPAN = timedelta(days=90)  # the spec's limit on start_date..end_date, and its default window
MAX_PAGE_SIZE = 1000  # the spec's default "first 1000"

# our question types → Open311 attribute datatypes
_DATATYPES = {"text": "string", "number": "number", "choice": "singlevaluelist", "boolean": "singlevaluelist"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


@dataclass(frozen=True, slots=True)
class RequestQuery:
    ids: list[str]
    service_codes: list[str]
    start: datetime | None
    end: datetime | None
    status: str | None  # "open" | "closed"
    page: int
    page_size: int


async def services(session: AsyncSession, english: bool) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Category).where(Category.active).order_by(Category.sort, Category.code)
    )
    return [
        {
            "service_code": c.code,
            "service_name": c.name_en if english else c.name_vi,
            "description": c.name_vi if english else c.name_en,  # the other language helps either reader
            "metadata": bool(c.questions),
            "type": "realtime",
            "keywords": "",
            "group": c.group_code or "",
        }
        for c in rows
    ]


async def service_definition(session: AsyncSession, code: str, english: bool) -> dict[str, Any]:
    c = await session.get(Category, code)
    if c is None or not c.active:
        raise Open311Error(404, f"Unknown service_code {code!r}.")
    attributes = []
    for order, q in enumerate(c.questions or [], start=1):
        kind = q.get("type", "text")
        values = {"choice": [{"key": o, "name": o} for o in q.get("options", [])]}.get(kind, [])
        if kind == "boolean":
            values = [{"key": "true", "name": "true"}, {"key": "false", "name": "false"}]
        label = (q.get("label_en") if english else None) or q.get("label_vi") or q["key"]
        attributes.append(
            {
                "variable": True,
                "code": q["key"],
                "datatype": _DATATYPES.get(kind, "string"),
                "required": bool(q.get("required")),
                "datatype_description": "",
                "order": order,
                "description": label,
                "values": values,
            }
        )
    return {"service_code": c.code, "attributes": attributes}


def parse_query(
    *,
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    page: str | None,
    page_size: str | None,
) -> RequestQuery:
    """The spec's filters; an empty parameter counts as absent."""

    def split(raw: str | None) -> list[str]:
        return [p.strip() for p in (raw or "").split(",") if p.strip()]

    def when(name: str, raw: str | None) -> datetime | None:
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise Open311Error(
                400, f"{name} must be a W3C date-time, e.g. 2026-11-20T08:30:00+07:00."
            ) from None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        try:
            check_instant(value, name)
        except AppError as exc:
            raise Open311Error(400, exc.message) from None
        return value

    def positive(name: str, raw: str | None, default: int, top: int) -> int:
        if not raw:
            return default
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or not 1 <= int(raw) <= top:
            raise Open311Error(400, f"{name} must be a whole number from 1 to {top}.")
        return int(raw)

    if status and status not in ("open", "closed"):
        raise Open311Error(400, "status must be 'open' or 'closed'.")
    start, end = when("start_date", start_date), when("end_date", end_date)
    if start and end and (end < start or end - start > MAX_SPAN):
        raise Open311Error(400, "start_date must come before end_date, at most 90 days apart.")
    return RequestQuery(
        ids=split(service_request_id),
        service_codes=split(service_code),
        start=start,
        end=end,
        status=status or None,
        page=positive("page", page, 1, 1_000_000),
        page_size=positive("page_size", page_size, MAX_PAGE_SIZE, MAX_PAGE_SIZE),
    )


async def service_requests(session: AsyncSession, q: RequestQuery, english: bool) -> list[dict[str, Any]]:
    r = ReportAsR
    conds: list[ColumnElement[bool]] = [reports_sql.PUBLIC]
    if q.ids:  # the spec: a list of ids overrides every other filter
        conds.append(r.code == any_(literal(q.ids, ARRAY(Text))))
    else:
        if q.service_codes:
            conds.append(r.category_code == any_(literal(q.service_codes, ARRAY(Text))))
        if q.status:
            statuses = values(OPEN if q.status == "open" else CLOSED)
            conds.append(r.status == any_(literal(statuses, ARRAY(Text))))
        # without dates, the spec's default window: the last 90 days
        conds.append(r.created_at >= (q.start or ((q.end or datetime.now(UTC)) - MAX_SPAN)))
        if q.end:
            conds.append(r.created_at <= q.end)
    e = ReportEvent
    notes = (
        select(e.public_message)
        .where(e.report_id == r.id, e.is_public, e.public_message.is_not(None), e.text_status == "shown")
        .order_by(e.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            r.id,
            r.code,
            r.status,
            r.category_code,
            Category.name_vi.label("category_vi"),
            Category.name_en.label("category_en"),
            r.description,
            r.address,
            r.public_description,
            r.public_address,
            func.ST_Y(r.geom).label("lat"),
            func.ST_X(r.geom).label("lng"),
            r.created_at,
            r.updated_at,
            r.closed_at,
            r.resolve_due_at,
            func.coalesce(Agency.name_vi, Area.name).label("responsible_vi"),
            func.coalesce(Agency.name_en, Area.name).label("responsible_en"),
            notes.label("notes"),
        )
        .join(Category, Category.code == r.category_code)
        .join(Area, Area.code == r.ward_code)
        .outerjoin(Agency, Agency.code == r.agency_code)
        .where(*conds)
        .order_by(r.created_at.desc(), r.id.desc())
        .limit(q.page_size)
        .offset((q.page - 1) * q.page_size)
    )
    return [_record(row, english) for row in rows]


async def service_request(session: AsyncSession, code: str, english: bool) -> list[dict[str, Any]]:
    found = await service_requests(session, RequestQuery([code.upper()], [], None, None, None, 1, 1), english)
    if not found:
        raise Open311Error(404, f"No public service request {code!r}.")
    return found


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _record(r: Any, english: bool) -> dict[str, Any]:
    closed = r.status in CLOSED
    description, address = public_report_text(
        r.description, r.address, r.public_description, r.public_address
    )
    notes, _ = public_event_text(r.notes, None, "shown")
    return {
        "service_request_id": r.code,
        "status": "closed" if closed else "open",
        "status_notes": notes or "",
        "service_name": (r.category_en if english else r.category_vi) or r.category_vi,
        "service_code": r.category_code,
        "description": description,
        "agency_responsible": r.responsible_en if english else r.responsible_vi,
        "service_notice": "",
        "requested_datetime": _iso(r.created_at),
        "updated_datetime": _iso(r.closed_at if closed and r.closed_at else r.updated_at),
        "expected_datetime": _iso(r.resolve_due_at),
        "address": address or "",
        "address_id": "",
        "zipcode": "",
        "lat": round(float(r.lat), 6),
        "long": round(float(r.lng), 6),
        "media_url": "",
    }
