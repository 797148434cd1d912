"""Submitting a report: one transaction from the idempotency key to the notifications it causes."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
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
from api.core.db import jsonb, raw_connection, rebind
from api.core.errors import AppError, Conflict, Unprocessable
from api.core.settings import Settings
from api.core.status import OPEN, values
from api.core.text import nfc, search_text
from api.notifications.service import event_facts_sql, notify_event
from api.reports import events
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


# A submission runs on the session's own asyncpg connection and transaction (`raw_connection`):
# prepared statements with positional parameters, no SQLAlchemy compile or result layers, and as few
# round trips as the rules allow. It is the hottest write path (bench/submit.py): one statement
# claims the idempotency key and reads everything the rules need (category rules and holidays, the
# ward, the agency route, nearby reports), each module's SQL embedded with `rebind`; one writes the
# report, its stored answer and its first event, and returns what the event's notifications need.
# The notifications (when someone is to be told) and media attachment share the transaction.
_AGENCY_SQL = """
SELECT cr.agency_code FROM category_routes cr JOIN areas w ON cr.area_code = ANY(w.lineage)
WHERE w.code = $1 AND cr.category_code = $2
ORDER BY array_position(w.lineage, cr.area_code) DESC LIMIT 1
"""

# Open public reports of the same category close by, for "follow this one instead".
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
_OPEN = values(OPEN)

# The claim and every read, in one round trip and one row. $1 user, $2 idempotency key (NULL: none),
# $3 request hash, $4-$6 rules_args, $7-$12 assign_params, $13 client id to check (NULL: none),
# $14 default nearby radius, $15 open statuses, $16 nearby since; nearby reports as arrays, nearest
# first. A concurrent retry with the same key blocks on the claim until the first one commits, then
# finds the key taken (`claimed` false) and reads the stored answer.
PREPARE_SQL = f"""
WITH claim AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash)
    SELECT $1, $2, $3 WHERE $2::text IS NOT NULL
    ON CONFLICT DO NOTHING RETURNING key
),
rules AS ({rebind(deadlines.RULES_SQL, "$4", "$5", "$6")}),
spot AS ({rebind(geo.ASSIGN_SQL, "$7", "$8", "$9", "$10", "$11", "$12")})
SELECT $2::text IS NULL OR EXISTS (SELECT FROM claim) AS claimed,
       EXISTS (SELECT FROM reports WHERE reporter_id = $1 AND client_id = $13) AS client_id_taken,
       rules.*,
       spot.code AS ward_code, spot.n, spot.snapped, spot.d, spot.near_boundary,
       ({rebind(_AGENCY_SQL, "spot.code", "$4")}) AS agency_code,
       nearby.*
FROM (SELECT) one
LEFT JOIN rules ON true
LEFT JOIN spot ON true
LEFT JOIN LATERAL (
    SELECT array_agg(n.code ORDER BY n.d, n.created_at DESC) AS nearby_codes,
           array_agg(n.category_code ORDER BY n.d, n.created_at DESC) AS nearby_categories,
           array_agg(n.status ORDER BY n.d, n.created_at DESC) AS nearby_statuses,
           array_agg(n.d ORDER BY n.d, n.created_at DESC) AS nearby_distances,
           array_agg(n.follower_count ORDER BY n.d, n.created_at DESC) AS nearby_followers,
           array_agg(n.created_at ORDER BY n.d, n.created_at DESC) AS nearby_created
    FROM ({rebind(_NEARBY_SQL, "$8", "$7", "coalesce(rules.nearby_radius_m, $14)", "$4", "$15", "$16")}) n
) nearby ON true
"""

_STORED_SQL = (
    "SELECT request_hash, status_code, response FROM idempotency_keys WHERE user_id = $1 AND key = $2"
)

# The report (held for review since now when $16 says so, $24 why), the answer stored under its
# idempotency key ($22; NULL: none), and the "created" event ($25…, `event_args`) with what its
# notifications need, in one round trip.
WRITE_SQL = f"""
WITH report AS (
    INSERT INTO reports (id, code, reporter_id, client_id, category_code, description, address, answers,
                         geom, accuracy_m, ward_code, agency_code, near_boundary, snapped_m, status,
                         visibility, anonymous, ack_due_at, resolve_due_at, search_text, created_at,
                         updated_at, held_for, held_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb,
            ST_SetSRID(ST_MakePoint($9::float8, $10::float8), 4326), $11, $12, $13, $14, $15, 'new',
            $16, $17, $18, $19, $20, $21, $21, $24::jsonb, CASE WHEN $16 = 'pending_review' THEN $21::timestamptz END)
    RETURNING *
),
answered AS (
    UPDATE idempotency_keys SET report_id = $1, status_code = 201, response = $23::jsonb
    WHERE $22::text IS NOT NULL AND user_id = $3 AND key = $22
),
{events.insert_event_cte(25)}
{event_facts_sql("events", reports="report")}
"""


def prepare_args(
    settings: Settings,
    user_id: uuid.UUID,
    key: str | None,
    digest: bytes,
    data: ReportIn,
    check_client_id: bool,
    now: datetime,
) -> tuple[Any, ...]:
    """PREPARE_SQL's parameters."""
    return (
        user_id,
        key,
        digest,
        *deadlines.rules_args(data.category, now),
        *geo.assign_params(data.lat, data.lng, settings.snap_distance_m, settings.near_boundary_m),
        data.client_id if check_client_id else None,
        settings.nearby_radius_m,
        _OPEN,
        now - timedelta(days=settings.nearby_days),
    )


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

    raw = await raw_connection(session)
    key = idempotency_key or (f"client:{data.client_id}" if data.client_id else None)
    digest = request_hash(data)
    now = datetime.now(UTC)
    # with the key from the header, the client id's own uniqueness needs a look of its own
    check_client_id = data.client_id is not None and idempotency_key is not None
    found = await raw.fetchrow(
        PREPARE_SQL, *prepare_args(settings, principal.id, key, digest, data, check_client_id, now)
    )
    assert found is not None  # one row, whatever is found
    if not found["claimed"]:
        stored = await raw.fetchrow(_STORED_SQL, principal.id, key)
        assert stored is not None
        return _stored(stored, digest)
    if found["client_id_taken"]:
        raise Conflict(
            "This client_id was already used for another report.",
            message_vi="Mã client_id này đã dùng cho một phản ánh khác.",
            code="client_id_reused",
        )
    admit()

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
    where = geo.assignment_from(found, await lineage_cache.get(raw, found["ward_code"]))
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
    facts = await raw.fetchrow(
        WRITE_SQL,
        report_id,
        code,
        principal.id,
        data.client_id,
        rules.code,
        description,
        address,
        jsonb(answers),
        data.lng,
        data.lat,
        data.accuracy_m,
        where.ward.code,
        agency,
        where.near_boundary,
        where.distance_m,
        screening.visibility,
        data.anonymous,
        ack_by,
        resolve_by,
        search_text(description, address),
        now,
        key,
        jsonb(body),
        jsonb(screening.reasons),
        *events.event_args(event),
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
