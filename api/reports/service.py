"""Submitting a report: one transaction from the idempotency key to the notifications it causes."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

import geo
import media
from api.access.tokens import Principal
from api.catalogue import deadlines
from api.core import ratelimit
from api.core.db import jsonb, raw_connection
from api.core.errors import AppError, Conflict, Unprocessable
from api.core.ratelimit import Limit
from api.core.settings import Settings
from api.core.status import OPEN, values
from api.core.text import nfc, search_text
from api.notifications.service import notify_event
from api.reports import events, sql
from api.reports.codes import new_code
from api.reports.schemas import (
    MAX_ADDRESS,
    MAX_DESCRIPTION,
    DueOut,
    NearbyReport,
    ReportCreated,
    ReportIn,
    WardRef,
)
from moderation import screen_text


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False

    def created(self) -> ReportCreated:
        """The body as its Struct (a stored answer comes back from jsonb with its keys reordered)."""
        return msgspec.convert(self.body, ReportCreated)


def outside_service_area(lat: float, lng: float) -> Unprocessable:
    return Unprocessable(
        "This location is outside the service area. Move the pin to where the problem is.",
        message_vi="Vị trí này nằm ngoài khu vực tiếp nhận phản ánh. Vui lòng đặt lại vị trí đúng nơi xảy ra sự việc.",
        code="outside_service_area",
        details={"lat": lat, "lng": lng},
    )


def too_long(field: str, limit: int) -> AppError:
    return AppError(
        f"'{field}' is longer than {limit} characters.",
        message_vi=f"Trường '{field}' dài quá {limit} ký tự.",
        code="text_too_long",
        details={"field": field, "max_length": limit},
    )


def request_hash(data: ReportIn) -> bytes:
    return hashlib.sha256(json.dumps(msgspec.to_builtins(data), sort_keys=True).encode()).digest()


def _stored(row: asyncpg.Record, digest: bytes) -> Outcome:
    if row["request_hash"] != digest:
        raise Conflict(
            "This Idempotency-Key was already used for a different report.",
            message_vi="Khóa chống gửi trùng này đã dùng cho một phản ánh khác.",
            code="idempotency_key_reused",
        )
    if row["response"] is None or row["status_code"] is None:
        raise Conflict(
            "The same report is still being submitted; retry shortly.",
            message_vi="Phản ánh này đang được gửi; vui lòng thử lại sau giây lát.",
            code="submission_in_progress",
        )
    return Outcome(row["status_code"], row["response"], replayed=True)


def _check_answers(asked: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to the category's questions, checked by type; unknown keys are refused."""
    problems: dict[str, str] = {}
    questions = {q["key"]: q for q in asked}
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
                value = nfc(value) or ""
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


# A submission runs its statements (api/reports/sql.py) on the session's own asyncpg connection and
# transaction: prepared statements, no SQLAlchemy compile or result layers, and as few round trips as
# the rules allow. The notifications (when someone is to be told) and media attachment share the
# transaction.
_OPEN = values(OPEN)


def prepare_params(
    settings: Settings,
    user_id: uuid.UUID,
    key: str | None,
    digest: bytes,
    data: ReportIn,
    check_client_id: bool,
    now: datetime,
) -> dict[str, Any]:
    """`sql.PREPARE`'s parameters."""
    return {
        "user_id": user_id,
        "key": key,
        "request_hash": digest,
        **deadlines.rules_params(data.category, now),
        **geo.assign_params(data.lat, data.lng, settings.snap_distance_m, settings.near_boundary_m),
        "client_id_to_check": data.client_id if check_client_id else None,
        "nearby_radius_m": settings.nearby_radius_m,
        "open_statuses": _OPEN,
        "nearby_since": now - timedelta(days=settings.nearby_days),
    }


def _nearby(row: asyncpg.Record) -> list[NearbyReport]:
    if row["nearby_codes"] is None:
        return []
    columns = ("codes", "categories", "statuses", "distances", "followers", "created")
    return [
        NearbyReport(code, category, status, round(float(d), 1), followers, created)
        for code, category, status, d, followers, created in zip(
            *(row[f"nearby_{c}"] for c in columns), strict=True
        )
    ]


async def submit(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    data: ReportIn,
    *,
    idempotency_key: str | None,
    lineage_cache: geo.LineageCache,
    limits: Sequence[tuple[Limit, str]] = (),
    max_description: int = MAX_DESCRIPTION,
) -> Outcome:
    """Create the report (or answer a retry with the stored result). Commits once.

    `limits` (limit, subject) are counted in the first statement unless the request is a replay (replays
    never count); a refusal rolls its hits back with the rest.
    `max_description`: Open311 partners may send longer descriptions than the app allows.
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
    if len(description) > max_description:
        raise too_long("description", max_description)
    if address is not None and len(address) > MAX_ADDRESS:
        raise too_long("address", MAX_ADDRESS)

    key = idempotency_key or (f"client:{data.client_id}" if data.client_id else None)
    digest = request_hash(data)
    now = datetime.now(UTC)
    # with the key from the header, the client id's own uniqueness needs a look of its own
    check_client_id = data.client_id is not None and idempotency_key is not None
    at = ratelimit.now()
    found = await sql.PREPARE.fetchrow(
        session,
        prepare_params(settings, principal.id, key, digest, data, check_client_id, now)
        | ratelimit.hit_params(limits, at),
    )
    assert found is not None  # one row, whatever is found
    if not found["claimed"]:
        stored = await sql.STORED.fetchrow(session, {"user_id": principal.id, "key": key})
        assert stored is not None
        return _stored(stored, digest)
    if found["client_id_taken"]:
        raise Conflict(
            "This client_id was already used for another report.",
            message_vi="Mã client_id này đã dùng cho một phản ánh khác.",
            code="client_id_reused",
        )
    ratelimit.check(limits, found["rate_keys"], found["rate_totals"], at)

    rules = None if found["code"] is None else deadlines.CategoryRules.from_row(found)
    if rules is None or not rules.active:
        raise deadlines.unknown_category(data.category)
    answers = _check_answers(rules.questions, data.answers)
    if rules.photo_required and not data.media_ids:
        raise Unprocessable(
            "This category needs at least one photo.",
            message_vi="Lĩnh vực này cần ít nhất một ảnh.",
            code="photo_required",
        )
    if found["ward_code"] is None:
        raise outside_service_area(data.lat, data.lng)
    chain = await lineage_cache.get(await raw_connection(session), found["ward_code"])
    where = geo.assignment_from(found, chain)
    agency: str | None = found["agency_code"]
    ack_by, resolve_by = rules.due(now)
    screening = screen_text(description, address)
    report_id, code = uuid.uuid4(), new_code()
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
        nearby=_nearby(found),
        created_at=now,
    )
    body = msgspec.to_builtins(created)
    event = events.new_event(
        report_id,
        "created",
        actor_id=principal.id,
        actor_role=principal.role,
        to_status="new",
        data={"held": screening.reasons} if screening.reasons else None,
    )
    facts = await sql.WRITE.fetchrow(
        session,
        {
            "id": report_id,
            "code": code,
            "reporter_id": principal.id,
            "client_id": data.client_id,
            "category": rules.code,
            "description": description,
            "address": address,
            "answers": jsonb(answers),
            "lng": data.lng,
            "lat": data.lat,
            "accuracy_m": data.accuracy_m,
            "ward_code": where.ward.code,
            "agency_code": agency,
            "near_boundary": where.near_boundary,
            "snapped_m": where.distance_m,
            "visibility": screening.visibility,
            "anonymous": data.anonymous,
            "ack_due_at": ack_by,
            "resolve_due_at": resolve_by,
            "search_text": search_text(description, address),
            "now": now,
            "key": key,
            "response": jsonb(body),
            "held_for": jsonb(screening.reasons),
            **events.event_params(event),
        },
    )
    assert facts is not None
    if data.media_ids:
        try:
            await media.attach_to_report(
                session, media_ids=data.media_ids, owner_id=principal.id, report_id=report_id
            )
        except media.MediaError as exc:
            raise Unprocessable(
                exc.message, message_vi=exc.message_vi, code=exc.code, details=exc.details
            ) from None
    await notify_event(session, facts)
    await session.commit()
    return Outcome(201, body)
