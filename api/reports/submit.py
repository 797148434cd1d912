"""Submitting a report: one transaction from the idempotency key to the notifications it causes."""

from __future__ import annotations

import hashlib
import json
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg
import msgspec
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

import geo
import media
from api.auth.tokens import Principal
from api.errors import AppError, Conflict, Unprocessable
from api.reports import deadlines
from api.reports.codes import new_code
from api.reports.events import append_event
from api.reports.models import OPEN_STATUSES, Category, IdempotencyKey, Report
from api.reports.schemas import (
    MAX_ADDRESS,
    MAX_DESCRIPTION,
    DueOut,
    NearbyReport,
    ReportCreated,
    ReportIn,
    WardRef,
)
from api.settings import Settings
from moderation import fold, screen_text

# Core tables for the writes (not the ORM classes): no unit of work on the hot path
_REPORTS = cast(Table, Report.__table__)
_KEYS = cast(Table, IdempotencyKey.__table__)


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def outside_service_area(lat: float, lng: float) -> Unprocessable:
    return Unprocessable(
        "This location is outside the service area. Move the pin to where the problem is.",
        message_vi="Vị trí này nằm ngoài khu vực tiếp nhận phản ánh. Vui lòng đặt lại vị trí đúng nơi xảy ra sự việc.",
        code="outside_service_area",
        details={"lat": lat, "lng": lng},
    )


def nfc(value: str | None) -> str | None:
    """NFC-normalised and stripped; None for nothing left."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value).strip()
    return value or None


def too_long(field: str, limit: int) -> AppError:
    return AppError(
        f"'{field}' is longer than {limit} characters.",
        message_vi=f"Trường '{field}' dài quá {limit} ký tự.",
        code="text_too_long",
        details={"field": field, "max_length": limit},
    )


def request_hash(data: ReportIn) -> bytes:
    return hashlib.sha256(json.dumps(msgspec.to_builtins(data), sort_keys=True).encode()).digest()


def _stored(row: IdempotencyKey, digest: bytes) -> Outcome:
    if row.request_hash != digest:
        raise Conflict(
            "This Idempotency-Key was already used for a different report.",
            message_vi="Khóa chống gửi trùng này đã dùng cho một phản ánh khác.",
            code="idempotency_key_reused",
        )
    if row.response is None or row.status_code is None:
        raise Conflict(
            "The same report is still being submitted; retry shortly.",
            message_vi="Phản ánh này đang được gửi; vui lòng thử lại sau giây lát.",
            code="submission_in_progress",
        )
    return Outcome(row.status_code, row.response, replayed=True)


def _check_answers(category: Category, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to the category's questions, checked by type; unknown keys are refused."""
    problems: dict[str, str] = {}
    questions = {q["key"]: q for q in category.questions or []}
    clean: dict[str, Any] = {}
    for key in answers:
        if key not in questions:
            problems[key] = "unknown question"
    for key, q in questions.items():
        value = answers.get(key)
        if value is None or value == "":
            if q.get("required"):
                problems[key] = "required"
            continue
        kind = q.get("type", "text")
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems[key] = "must be a number"
            elif ("min" in q and value < q["min"]) or ("max" in q and value > q["max"]):
                problems[key] = f"must be between {q.get('min')} and {q.get('max')}"
        elif kind == "boolean":
            if not isinstance(value, bool):
                problems[key] = "must be true or false"
        elif kind == "choice":
            if value not in q.get("options", []):
                problems[key] = f"must be one of {q.get('options', [])}"
        else:
            if not isinstance(value, str):
                problems[key] = "must be text"
            else:
                value = unicodedata.normalize("NFC", value).strip()
                if len(value) > int(q.get("max_length", 500)):
                    problems[key] = "too long"
        clean[key] = value
    if problems:
        raise Unprocessable(
            "Some answers to the category's questions are not valid.",
            message_vi="Một số câu trả lời không hợp lệ.",
            code="invalid_answers",
            details=problems,
        )
    return clean


# The reads of a submission run on the session's asyncpg connection itself: prepared statements
# with positional parameters, no SQLAlchemy layers (the hottest write path; see bench/submit.py).
_AGENCY_SQL = """
SELECT cr.agency_code FROM category_routes cr JOIN areas w ON cr.area_code = ANY(w.lineage)
WHERE w.code = $1 AND cr.category_code = $2
ORDER BY array_position(w.lineage, cr.area_code) DESC LIMIT 1
"""

_NEARBY_SQL = """
WITH pt AS (SELECT geography(ST_SetSRID(ST_MakePoint($2::float8, $1::float8), 4326)) AS g)
SELECT r.code, r.category_code, r.status, ST_Distance(geography(r.geom), pt.g) AS d,
       r.follower_count, r.created_at
FROM reports r, pt
WHERE ST_DWithin(geography(r.geom), pt.g, $3::float8)
  AND r.category_code = $4 AND r.status = ANY($5::text[]) AND r.visibility = 'public'
  AND r.created_at >= $6
ORDER BY d, r.created_at DESC LIMIT 5
"""


async def _agency_for(raw: asyncpg.Connection, category: str, ward_code: str) -> str | None:
    """A category routed to an agency for an area covering the ward; the deepest such area wins."""
    agency: str | None = await raw.fetchval(_AGENCY_SQL, ward_code, category)
    return agency


async def _nearby(
    raw: asyncpg.Connection, category: Category, lat: float, lng: float, settings: Settings
) -> list[NearbyReport]:
    """Open public reports of the same category close by, for "follow this one instead"."""
    radius = category.nearby_radius_m if category.nearby_radius_m is not None else settings.nearby_radius_m
    since = datetime.now(UTC) - timedelta(days=settings.nearby_days)
    rows = await raw.fetch(_NEARBY_SQL, lat, lng, radius, category.code, list(OPEN_STATUSES), since)
    return [
        NearbyReport(
            r["code"],
            r["category_code"],
            r["status"],
            round(float(r["d"]), 1),
            r["follower_count"],
            r["created_at"],
        )
        for r in rows
    ]


async def submit(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    data: ReportIn,
    *,
    idempotency_key: str | None,
    lineage_cache: geo.LineageCache,
    admit: Callable[[], None] = lambda: None,
) -> Outcome:
    """Create the report (or answer a retry with the stored result). Commits once.

    `admit` runs once the request is known not to be a replay (the rate limit: replays never count).
    """
    description = nfc(data.description)
    address = nfc(data.address)
    if description is None:
        raise AppError(
            "Describe the problem.",
            message_vi="Vui lòng mô tả sự việc.",
            code="description_required",
            details={"field": "description"},
        )
    if len(description) > MAX_DESCRIPTION:
        raise too_long("description", MAX_DESCRIPTION)
    if address is not None and len(address) > MAX_ADDRESS:
        raise too_long("address", MAX_ADDRESS)

    key = idempotency_key or (f"client:{data.client_id}" if data.client_id else None)
    digest = request_hash(data)
    if key is not None:
        # Claim the key first: a concurrent retry blocks here until we commit, then reads our answer.
        claimed = await session.execute(
            insert(_KEYS)
            .values(user_id=principal.id, key=key, request_hash=digest)
            .on_conflict_do_nothing()
            .returning(_KEYS.c.key)
        )
        if claimed.first() is None:
            row = await session.get(IdempotencyKey, (principal.id, key), populate_existing=True)
            assert row is not None
            return _stored(row, digest)
    if data.client_id is not None and idempotency_key is not None:
        # the key is the header, so the client id's own uniqueness needs a look of its own
        taken = await session.scalar(
            select(Report.id).where(Report.reporter_id == principal.id, Report.client_id == data.client_id)
        )
        if taken is not None:
            raise Conflict(
                "This client_id was already used for another report.",
                message_vi="Mã client_id này đã dùng cho một phản ánh khác.",
                code="client_id_reused",
            )
    admit()

    category = await session.get(Category, data.category)
    if category is None or not category.active:
        raise Unprocessable(
            f"Unknown category {data.category!r}.",
            message_vi=f"Lĩnh vực {data.category!r} không tồn tại.",
            code="unknown_category",
            details={"field": "category"},
        )
    answers = _check_answers(category, data.answers)
    if category.photo_required and not data.media_ids:
        raise Unprocessable(
            "This category needs at least one photo.",
            message_vi="Lĩnh vực này cần ít nhất một ảnh.",
            code="photo_required",
        )
    raw = (await (await session.connection()).get_raw_connection()).driver_connection
    where = await geo.assign_fast(
        raw,
        lineage_cache,
        data.lat,
        data.lng,
        snap_distance_m=settings.snap_distance_m,
        near_boundary_m=settings.near_boundary_m,
    )
    if where is None:
        raise outside_service_area(data.lat, data.lng)
    nearby = await _nearby(raw, category, data.lat, data.lng, settings)
    agency = await _agency_for(raw, category.code, where.ward.code)
    now = datetime.now(UTC)
    ack_by, resolve_by = await deadlines.due_dates(session, category.code, now)
    screening = screen_text(description, address)
    report_id, code = uuid.uuid4(), new_code()
    new_report = dict(
        id=report_id,
        code=code,
        reporter_id=principal.id,
        client_id=data.client_id,
        category_code=category.code,
        description=description,
        address=address,
        answers=answers,
        geom=f"SRID=4326;POINT({data.lng} {data.lat})",
        accuracy_m=data.accuracy_m,
        ward_code=where.ward.code,
        agency_code=agency,
        near_boundary=where.near_boundary,
        snapped_m=where.distance_m,
        status="new",
        visibility=screening.visibility,
        anonymous=data.anonymous,
        ack_due_at=ack_by,
        resolve_due_at=resolve_by,
        search_text=search_text_for(description, address),
        created_at=now,
        updated_at=now,
    )
    # a Core insert: the ORM's unit of work would cost more than the statement (see events.py)
    await session.execute(insert(_REPORTS).values(new_report))
    if data.media_ids:
        try:
            await media.attach_to_report(
                session, media_ids=data.media_ids, owner_id=principal.id, report_id=report_id
            )
        except media.MediaError as exc:
            raise Unprocessable(
                exc.message, message_vi=exc.message_vi, code=exc.code, details=exc.details
            ) from None
    await append_event(
        session,
        report_id,
        "created",
        actor_id=principal.id,
        actor_role=principal.role,
        to_status="new",
        data={"held": screening.reasons} if screening.reasons else None,
    )
    created = ReportCreated(
        id=report_id,
        code=code,
        status="new",
        visibility=screening.visibility,
        ward=WardRef(where.ward.code, where.ward.name),
        agency=agency,
        due=DueOut(ack_by, resolve_by),
        near_boundary=where.near_boundary,
        snapped_m=where.distance_m,
        nearby=nearby,
        created_at=now,
    )
    body = msgspec.to_builtins(created)
    if key is not None:
        await session.execute(
            update(_KEYS)
            .where(_KEYS.c.user_id == principal.id, _KEYS.c.key == key)
            .values(report_id=report_id, status_code=201, response=body)
        )
    await session.commit()
    return Outcome(201, body)


def search_text_for(description: str, address: str | None) -> str:
    """What text search matches: accent-free, lower-case, like f_unaccent() in the database."""
    return fold(f"{description} {address or ''}".strip())
