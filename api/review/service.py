"""Moderation: what waits for a moderator, and what moderators do to make residents' text safe.
Callable without HTTP.

What waits: a report whose own text screening found abusive or an officer flagged (visibility
`pending_review`, `held_for` says why), and single event messages held the same way (a reopen
reason, a rating comment: `text_status` held) while their case goes on. Personal data never waits:
it is masked on the way out.

What a moderator (or an admin) does, each decision a staff-only report event in the same
transaction:

- publish / hide the report (`moderated`);
- redact: write the text the public reads instead of the resident's (`redacted`, with the public text
  before and after); the original stays for staff, and public search follows the redacted text;
- publish_message / hide_message: one event's message (`moderated`, naming the event).

Officers, leaders and moderators flag a report's text or one message for review (`flagged`); what a
person flagged keeps waiting even when the resident edits the text.

Moderators with areas (or agencies) review the reports in their scope, moderators without any review
everything, admins review everything; out of scope is "not found". A flag follows the caller's
staff scope.

`set_blur`: what a photo's (or a video poster's) public renditions hide, on a report the moderator may
review (unattached media: admins only). A non-public `media_blurred` event records the boxes before and
after; the worker makes the renditions again.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import media
from api.access.scope import review_scope
from api.access.tokens import Principal
from api.core import pagination
from api.core.errors import Conflict, NotFound, Unprocessable
from api.core.pagination import Instant
from api.core.text import nfc, search_text
from api.reports.events import append_event
from moderation import FLAGGED

ALLOWED_FROM = {"publish": ("pending_review", "hidden"), "hide": ("pending_review", "public")}
TARGET = {"publish": "public", "hide": "hidden"}
MESSAGE_FROM = {"publish_message": ("held", "hidden"), "hide_message": ("held", "shown")}
MESSAGE_TARGET = {"publish_message": "shown", "hide_message": "hidden"}
ACTIONS = (*TARGET, "redact", *MESSAGE_TARGET)


def report_not_found() -> NotFound:
    return NotFound("No such report.", message_vi="Không tìm thấy phản ánh.", code="report_not_found")


def _event_not_found() -> NotFound:
    return NotFound(
        "No such message on this report.",
        message_vi="Không tìm thấy nội dung này trong phản ánh.",
        code="event_not_found",
    )


def _invalid(what: str, state: str, allowed: list[str]) -> Conflict:
    """`what`: "visibility" (of the report) or "text_status" (of a message)."""
    return Conflict(
        f"Cannot do that while its {what} is {state}.",
        message_vi=f"Không thể thực hiện khi đang ở trạng thái {state}.",
        code="invalid_transition",
        details={what: state, "allowed": allowed},
    )


@dataclass(frozen=True, slots=True)
class QueueItem:
    kind: Literal["report", "message"]
    code: str
    category_code: str
    description: str
    address: str | None
    ward_code: str | None
    status: str
    visibility: str
    created_at: datetime
    lat: float | None
    lng: float | None
    held_for: list[str]
    held_since: datetime
    event_id: uuid.UUID | None
    event_kind: str | None
    message: str | None
    key: str  # the item's place in the queue's order, after held_since


@dataclass(frozen=True, slots=True)
class Decided:
    visibility: str
    event_id: uuid.UUID
    message_event_id: uuid.UUID | None = None
    text_status: str | None = None


_REPORT_COLUMNS = """r.code, r.category_code, r.description, r.address, r.ward_code, r.status, r.visibility,
       r.created_at, ST_Y(r.geom) AS lat, ST_X(r.geom) AS lng"""


async def queue(
    session: AsyncSession, viewer: Principal, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[QueueItem], str | None]:
    """What waits for review in the viewer's scope, longest waiting first; and the next page's cursor."""
    cond, scope_params = review_scope(viewer)
    params: dict[str, Any] = {**scope_params, "limit": limit + 1}
    keyset = ""
    if cursor:
        params["at"], params["key"] = pagination.decode(cursor, tuple[Instant, str])
        keyset = "WHERE (q.held_since, q.key) > (:at, :key)"
    rows = await session.execute(
        text(
            f"""
            SELECT q.* FROM (
                SELECT 'report' AS kind, {_REPORT_COLUMNS}, r.held_for,
                       coalesce(r.held_at, r.created_at) AS held_since, NULL::uuid AS event_id,
                       NULL AS event_kind, NULL AS message, r.code AS key
                FROM reports r
                WHERE r.visibility = 'pending_review' AND {cond}
                UNION ALL
                SELECT 'message', {_REPORT_COLUMNS}, e.held_for, coalesce(e.held_at, e.created_at), e.id,
                       e.kind, coalesce(e.public_message, e.reason), r.code || '/' || e.id::text
                FROM report_events e JOIN reports r ON r.id = e.report_id
                WHERE e.text_status = 'held' AND {cond}
            ) q
            {keyset}
            ORDER BY q.held_since, q.key
            LIMIT :limit
            """
        ),
        params,
    )
    items = [QueueItem(**{**row._mapping, "held_for": list(row.held_for or [])}) for row in rows]
    return pagination.page(items, limit, lambda i: (i.held_since, i.key))


async def _locked(session: AsyncSession, viewer: Principal, code: str) -> Any:
    cond, params = review_scope(viewer)
    row = (
        await session.execute(
            text(
                f"""
                SELECT r.id, r.visibility, r.status, r.version, r.held_for, r.description, r.address,
                       r.public_description, r.public_address
                FROM reports r WHERE r.code = :code AND {cond}
                FOR UPDATE OF r
                """
            ),
            {"code": code.strip().upper(), **params},
        )
    ).first()
    if row is None:
        raise report_not_found()
    return row


async def _message(session: AsyncSession, report_id: uuid.UUID, event_id: uuid.UUID | None) -> Any:
    if event_id is None:
        raise Unprocessable(
            "Say which message: event_id.", message_vi="Cần chọn nội dung (event_id).", code="event_required"
        )
    row = (
        await session.execute(
            text(
                "SELECT id, kind, text_status, held_for FROM report_events "
                "WHERE id = :e AND report_id = :r AND (public_message IS NOT NULL OR reason IS NOT NULL) "
                "FOR UPDATE"
            ),
            {"e": event_id, "r": report_id},
        )
    ).first()
    if row is None:
        raise _event_not_found()
    return row


async def decide(
    session: AsyncSession,
    viewer: Principal,
    code: str,
    action: str,
    reason: str | None = None,
    *,
    event_id: uuid.UUID | None = None,
    description: str | None = None,
    address: str | None = None,
) -> Decided:
    """Apply one moderator's decision (see the module's docstring). Commits."""
    if action not in ACTIONS:
        raise Unprocessable("Unknown action.", message_vi="Thao tác không hợp lệ.", code="invalid_action")
    row = await _locked(session, viewer, code)
    now = datetime.now(UTC)
    if action in TARGET:
        decided = await _set_visibility(session, viewer, row, action, reason, now)
    elif action == "redact":
        decided = await _redact(session, viewer, row, reason, description, address, now)
    else:
        decided = await _set_message(session, viewer, row, action, reason, event_id)
    await session.commit()
    return decided


async def _set_visibility(
    session: AsyncSession, viewer: Principal, row: Any, action: str, reason: str | None, now: datetime
) -> Decided:
    if row.visibility not in ALLOWED_FROM[action]:
        allowed = [a for a, sources in ALLOWED_FROM.items() if row.visibility in sources]
        raise _invalid("visibility", row.visibility, allowed)
    new = TARGET[action]
    await session.execute(
        text(
            "UPDATE reports SET visibility = :v, held_for = '[]'::jsonb, held_at = NULL, version = version + 1, "
            "updated_at = :now WHERE id = :id"
        ),
        {"v": new, "now": now, "id": row.id},
    )
    event = await append_event(
        session,
        row.id,
        "moderated",
        actor_id=viewer.id,
        actor_role=viewer.role,
        from_status=row.status,
        to_status=row.status,
        reason=reason,
        data={"action": action, "from_visibility": row.visibility, "to_visibility": new},
        is_public=False,
    )
    return Decided(new, event.id)


async def _redact(
    session: AsyncSession,
    viewer: Principal,
    row: Any,
    reason: str | None,
    description: str | None,
    address: str | None,
    now: datetime,
) -> Decided:
    if description is None and address is None:
        raise Unprocessable(
            "Give the text the public should read: description and/or address.",
            message_vi="Cần nhập nội dung công khai: mô tả và/hoặc địa chỉ.",
            code="nothing_to_redact",
        )
    public_description, public_address = row.public_description, row.public_address
    fields = []
    if description is not None:
        public_description = nfc(description)
        if not public_description:
            raise Unprocessable(
                "The public description cannot be empty; hide the report instead.",
                message_vi="Mô tả công khai không được để trống; hãy ẩn phản ánh.",
                code="description_required",
                details={"field": "description"},
            )
        fields.append("description")
    if address is not None:
        public_address = nfc(address) or ""  # "": the public reads no address
        fields.append("address")
    shown_description = public_description if public_description is not None else row.description
    shown_address = public_address if public_address is not None else row.address
    await session.execute(
        text(
            "UPDATE reports SET public_description = :d, public_address = :a, search_text = :s, updated_at = :now "
            "WHERE id = :id"
        ),
        {
            "d": public_description,
            "a": public_address,
            "s": search_text(shown_description, shown_address),
            "now": now,
            "id": row.id,
        },
    )
    event = await append_event(
        session,
        row.id,
        "redacted",
        actor_id=viewer.id,
        actor_role=viewer.role,
        from_status=row.status,
        to_status=row.status,
        reason=reason,
        data={
            "fields": fields,
            "before": {"description": row.public_description, "address": row.public_address},
            "after": {"description": public_description, "address": public_address},
        },
        is_public=False,
    )
    return Decided(row.visibility, event.id)


async def _set_message(
    session: AsyncSession,
    viewer: Principal,
    row: Any,
    action: str,
    reason: str | None,
    event_id: uuid.UUID | None,
) -> Decided:
    message = await _message(session, row.id, event_id)
    if message.text_status not in MESSAGE_FROM[action]:
        allowed = [a for a, sources in MESSAGE_FROM.items() if message.text_status in sources]
        raise _invalid("text_status", message.text_status, allowed)
    new = MESSAGE_TARGET[action]
    await session.execute(
        text(
            "UPDATE report_events SET text_status = :t, held_for = '[]'::jsonb, held_at = NULL WHERE id = :id"
        ),
        {"t": new, "id": message.id},
    )
    event = await append_event(
        session,
        row.id,
        "moderated",
        actor_id=viewer.id,
        actor_role=viewer.role,
        from_status=row.status,
        to_status=row.status,
        reason=reason,
        data={
            "action": action,
            "event_id": str(message.id),
            "event_kind": message.kind,
            "from_text_status": message.text_status,
            "to_text_status": new,
        },
        is_public=False,
    )
    return Decided(row.visibility, event.id, message.id, new)


async def flag(
    session: AsyncSession,
    principal: Principal,
    code: str,
    reason: str | None = None,
    event_id: uuid.UUID | None = None,
) -> Decided:
    """Ask a moderator to look at the report's text (it leaves the public until reviewed) or at one
    event's message (that message alone). Commits."""
    row = await _locked(session, principal, code)
    now = datetime.now(UTC)
    text_status = None
    if event_id is None:
        if row.visibility == "hidden":
            raise _invalid("visibility", row.visibility, [])
        held = [*row.held_for, FLAGGED] if FLAGGED not in row.held_for else list(row.held_for)
        await session.execute(
            text(
                "UPDATE reports SET visibility = 'pending_review', held_for = CAST(:h AS jsonb), "
                "held_at = coalesce(held_at, :now), updated_at = :now WHERE id = :id"
            ),
            {"h": _json(held), "now": now, "id": row.id},
        )
        visibility = "pending_review"
    else:
        message = await _message(session, row.id, event_id)
        if message.text_status == "hidden":
            raise _invalid("text_status", message.text_status, [])
        held = [*message.held_for, FLAGGED] if FLAGGED not in message.held_for else list(message.held_for)
        await session.execute(
            text(
                "UPDATE report_events SET text_status = 'held', held_for = CAST(:h AS jsonb), "
                "held_at = coalesce(held_at, :now) WHERE id = :id"
            ),
            {"h": _json(held), "now": now, "id": message.id},
        )
        visibility, text_status = row.visibility, "held"
    event = await append_event(
        session,
        row.id,
        "flagged",
        actor_id=principal.id,
        actor_role=principal.role,
        from_status=row.status,
        to_status=row.status,
        internal_note=reason,
        data={"event_id": str(event_id)} if event_id else {"from_visibility": row.visibility},
        is_public=False,
    )
    await session.commit()
    return Decided(visibility, event.id, event_id, text_status)


def _json(values: list[str]) -> str:
    return json.dumps(values)


def media_not_found(media_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"No media with id {media_id}.", message_vi=f"Không tìm thấy tệp {media_id}.", code="media_not_found"
    )


@dataclass(frozen=True, slots=True)
class BlurSet:
    boxes: list[dict[str, Any]]
    event_id: uuid.UUID | None


async def set_blur(
    session: AsyncSession, viewer: Principal, media_id: uuid.UUID, boxes: list[list[float]]
) -> BlurSet:
    """Replace what the media's public renditions hide and queue their rebuild. Commits."""
    m = await session.get(media.Media, media_id, with_for_update=True)
    if m is None:
        raise media_not_found(media_id)
    report = None
    if m.report_id is not None:
        cond, params = review_scope(viewer)
        report = (
            await session.execute(
                text(f"SELECT r.id, r.status FROM reports r WHERE r.id = :rid AND {cond}"),
                {"rid": m.report_id, **params},
            )
        ).first()
        if report is None:
            raise media_not_found(media_id)
    elif viewer.role != "admin":  # not on any report: nobody's case to review
        raise media_not_found(media_id)
    before = list(m.blur_boxes or [])
    stored = await media.set_blur_boxes(session, m, boxes)
    event_id = None
    if report is not None:
        event = await append_event(
            session,
            report.id,
            "media_blurred",
            actor_id=viewer.id,
            actor_role=viewer.role,
            from_status=report.status,
            to_status=report.status,
            data={"media_id": str(media_id), "before": before, "after": stored},
            is_public=False,
        )
        event_id = event.id
    await session.commit()
    return BlurSet(stored, event_id)
