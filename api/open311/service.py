"""Open311 records from our tables: services are categories, service requests are public reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Text, any_, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

import media
from api.catalogue.models import Agency, Category
from api.core import clock
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
    status: str | None  # "open" | "closed"; None: both
    page: int
    page_size: int
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    extensions: bool = False


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


def service_notice(ack_hours: int, resolve_value: int, resolve_unit: str, english: bool) -> str:
    """The category's promise, as the spec's `service_notice`: when a request is acknowledged and
    when it should be resolved."""
    if english:
        unit = "hours" if resolve_unit == "hours" else "working days"
        return f"Acknowledged within {ack_hours} hours; resolved within {resolve_value} {unit}."
    unit = "giờ" if resolve_unit == "hours" else "ngày làm việc"
    return f"Tiếp nhận trong {ack_hours} giờ; xử lý trong {resolve_value} {unit}."


async def service_definition(session: AsyncSession, code: str, english: bool) -> dict[str, Any]:
    c = await session.get(Category, code)
    if c is None or not c.active:
        raise Open311Error(404, f"Unknown service_code {code!r}.")
    attributes = []
    for order, q in enumerate(c.questions or [], start=1):
        kind = q.get("type", "text")
        values = {"choice": _choice_values(q, english)}.get(kind, [])
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


def _choice_values(question: dict[str, Any], english: bool) -> list[dict[str, str]]:
    """A choice question's values: the value as `key`, its label in the reader's language as `name`."""
    choices = question.get("choices") or [{"value": o, "label": {}} for o in question.get("options", [])]
    lang = "en" if english else "vi"
    return [{"key": c["value"], "name": (c.get("label") or {}).get(lang) or c["value"]} for c in choices]


def parse_query(
    *,
    service_request_id: list[str],
    service_code: list[str],
    start_date: str | None,
    end_date: str | None,
    status: list[str],
    page: str | None,
    page_size: str | None,
    updated_after: str | None = None,
    updated_before: str | None = None,
    extensions: str | None = None,
) -> RequestQuery:
    """The spec's filters and the usual extensions. A list parameter may repeat and each value may be a
    comma list (`status=open,closed`, `service_code=a&service_code=b`); an empty one counts as absent."""

    def split(raw: list[str]) -> list[str]:
        return [p.strip() for value in raw for p in value.split(",") if p.strip()]

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

    statuses = set(split(status))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status must be 'open', 'closed' or both, comma-separated.")
    start, end = when("start_date", start_date), when("end_date", end_date)
    if start and end and (end < start or end - start > MAX_SPAN):
        raise Open311Error(400, "start_date must come before end_date, at most 90 days apart.")
    after, before = when("updated_after", updated_after), when("updated_before", updated_before)
    if after and before and before < after:
        raise Open311Error(400, "updated_after must come before updated_before.")
    if extensions not in (None, "", "true", "false"):
        raise Open311Error(400, "extensions must be 'true' or 'false'.")
    return RequestQuery(
        ids=[i.upper() for i in split(service_request_id)],
        service_codes=split(service_code),
        start=start,
        end=end,
        status=statuses.pop() if len(statuses) == 1 else None,
        page=positive("page", page, 1, 1_000_000),
        page_size=positive("page_size", page_size, MAX_PAGE_SIZE, MAX_PAGE_SIZE),
        updated_after=after,
        updated_before=before,
        extensions=extensions == "true",
    )


async def service_requests(
    session: AsyncSession, q: RequestQuery, english: bool, base_url: str
) -> list[dict[str, Any]]:
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
        if q.updated_after:
            conds.append(r.updated_at >= q.updated_after)
        if q.updated_before:
            conds.append(r.updated_at <= q.updated_before)
        if q.start or q.end or not (q.updated_after or q.updated_before):
            # the spec's default window: the 90 days before end_date (or now); a partner following
            # changes by updated_after alone sees every report changed since, however old
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
    result = await session.execute(
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
            Category.ack_hours,
            Category.resolve_value,
            Category.resolve_unit,
            exists(
                select(media.Media.id).where(
                    media.Media.report_id == r.id, media.Media.status == "ready", media.Media.kind == "photo"
                )
            ).label("has_photo"),
            r.ward_code,
            Area.name.label("ward_name"),
            r.agency_code,
            r.ack_due_at,
            r.duplicate_of,
        )
        .join(Category, Category.code == r.category_code)
        .join(Area, Area.code == r.ward_code)
        .outerjoin(Agency, Agency.code == r.agency_code)
        .where(*conds)
        .order_by(r.created_at.desc(), r.id.desc())
        .limit(q.page_size)
        .offset((q.page - 1) * q.page_size)
    )
    rows = list(result)
    records = [_record(row, english, base_url) for row in rows]
    if q.extensions and records:
        await _extend(session, rows_by_code={row.code: row for row in rows}, records=records)
    return records


async def service_request(
    session: AsyncSession, code: str, english: bool, base_url: str, extensions: bool = False
) -> list[dict[str, Any]]:
    found = await service_requests(
        session,
        RequestQuery([code.upper()], [], None, None, None, 1, 1, extensions=extensions),
        english,
        base_url,
    )
    if not found:
        raise Open311Error(404, f"No public service request {code!r}.")
    return found


def w3c(value: datetime | None) -> str | None:
    """A W3C date-time in whole seconds, at the city's offset (some clients refuse fractions)."""
    return clock.to_local(value).replace(microsecond=0).isoformat() if value else None


def media_link(base_url: str, code: str) -> str:
    """A stable link to the request's first public photo: it redirects to a fresh signed rendition."""
    return f"{base_url}/open311/v2/media/{code}"


def _record(r: Any, english: bool, base_url: str) -> dict[str, Any]:
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
        "service_notice": service_notice(r.ack_hours, r.resolve_value, r.resolve_unit, english),
        "requested_datetime": w3c(r.created_at),
        "updated_datetime": w3c(r.closed_at if closed and r.closed_at else r.updated_at),
        "expected_datetime": w3c(r.resolve_due_at),
        "address": address or "",
        "address_id": "",
        "zipcode": "",
        "lat": round(float(r.lat), 6),
        "long": round(float(r.lng), 6),
        "media_url": media_link(base_url, r.code) if r.has_photo else None,
    }


async def _extend(
    session: AsyncSession, *, rows_by_code: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    """`extensions=true`: the case's ward, agency, deadlines and duplicate parent, and its public
    updates as `notes` (the public timeline, text as the public reads it)."""
    ids = [row.id for row in rows_by_code.values()]
    parents = {row.duplicate_of for row in rows_by_code.values() if row.duplicate_of is not None}
    parent_codes: dict[Any, str] = {}
    if parents:
        found = await session.execute(
            select(ReportAsR.id, ReportAsR.code).where(ReportAsR.id == any_(literal(list(parents))))
        )
        parent_codes = {i: c for i, c in found}
    e = ReportEvent
    events = await session.execute(
        select(e.report_id, e.kind, e.to_status, e.public_message, e.reason, e.text_status, e.created_at)
        .where(e.report_id == any_(literal(ids)), e.is_public)
        .order_by(e.report_id, e.created_at, e.id)
    )
    notes: dict[Any, list[dict[str, Any]]] = {}
    for ev in events:
        message, _ = public_event_text(ev.public_message, ev.reason, ev.text_status)
        notes.setdefault(ev.report_id, []).append(
            {
                "type": ev.kind,
                "status": ev.to_status or "",
                "datetime": w3c(ev.created_at),
                "description": message or "",
            }
        )
    for record in records:
        row = rows_by_code[record["service_request_id"]]
        record["extended_attributes"] = {
            "ward": row.ward_code,
            "ward_name": row.ward_name,
            "agency": row.agency_code or "",
            "status_detail": row.status,
            "acknowledge_by": w3c(row.ack_due_at),
            "resolve_by": w3c(row.resolve_due_at),
            "duplicate_of": parent_codes.get(row.duplicate_of) if row.duplicate_of else None,
        }
        record["notes"] = notes.get(row.id, [])


async def photo_url(session: AsyncSession, code: str) -> str:
    """A fresh signed link to the first public photo of a public request (faces and plates hidden)."""
    r = ReportAsR
    report_id = await session.scalar(select(r.id).where(reports_sql.PUBLIC, r.code == code.upper()))
    if report_id is None:
        raise Open311Error(404, f"No public service request {code!r}.")
    items = await media.list_for_report(session, report_id, base_url="")
    for item in items:
        if item.get("kind") == "photo" and item.get("renditions"):
            renditions = item["renditions"]
            return str(renditions.get("large") or next(iter(renditions.values())))
    raise Open311Error(404, f"Service request {code!r} has no public photo.")
