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

Blur boxes of photos: api/review/blur.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Text, Uuid, cast, func, literal, null, or_, select, tuple_, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.scope import review_clause
from api.access.tokens import Principal
from api.core import pagination
from api.core.errors import Conflict, NotFound, Unprocessable
from api.core.pagination import Instant
from api.core.text import nfc, search_text
from api.reports.events import append_event
from api.reports.models import Report, ReportAsR, ReportEvent
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


def _report_columns() -> list[Any]:
    r = ReportAsR
    return [
        r.code,
        r.category_code,
        r.description,
        r.address,
        r.ward_code,
        r.status,
        r.visibility,
        r.created_at,
        func.ST_Y(r.geom).label("lat"),
        func.ST_X(r.geom).label("lng"),
    ]


async def queue(
    session: AsyncSession, viewer: Principal, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[QueueItem], str | None]:
    """What waits for review in the viewer's scope, longest waiting first; and the next page's cursor."""
    r, e = ReportAsR, ReportEvent
    reports = select(
        literal("report", Text).label("kind"),
        *_report_columns(),
        r.held_for,
        func.coalesce(r.held_at, r.created_at).label("held_since"),
        cast(null(), Uuid).label("event_id"),
        cast(null(), Text).label("event_kind"),
        cast(null(), Text).label("message"),
        r.code.label("key"),
    ).where(r.visibility == "pending_review", review_clause(viewer))
    messages = (
        select(
            literal("message", Text),
            *_report_columns(),
            e.held_for,
            func.coalesce(e.held_at, e.created_at),
            e.id,
            e.kind,
            func.coalesce(e.public_message, e.reason),
            r.code + "/" + cast(e.id, Text),
        )
        .join_from(e, r, r.id == e.report_id)
        .where(e.text_status == "held", review_clause(viewer))
    )
    q = union_all(reports, messages).subquery("q")
    stmt = select(q).order_by(q.c.held_since, q.c.key).limit(limit + 1)
    if cursor:
        at, key = pagination.decode(cursor, tuple[Instant, str])
        stmt = stmt.where(tuple_(q.c.held_since, q.c.key) > tuple_(literal(at), literal(key)))
    rows = await session.execute(stmt)
    items = [QueueItem(**{**row._mapping, "held_for": list(row.held_for or [])}) for row in rows]
    return pagination.page(items, limit, lambda i: (i.held_since, i.key))


async def _locked(session: AsyncSession, viewer: Principal, code: str) -> Any:
    r = ReportAsR
    row = (
        await session.execute(
            select(
                r.id,
                r.visibility,
                r.status,
                r.version,
                r.held_for,
                r.description,
                r.address,
                r.public_description,
                r.public_address,
            )
            .where(r.code == code.strip().upper(), review_clause(viewer))
            .with_for_update(of=r)
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
    e = ReportEvent
    row = (
        await session.execute(
            select(e.id, e.kind, e.text_status, e.held_for)
            .where(
                e.id == event_id,
                e.report_id == report_id,
                or_(e.public_message.is_not(None), e.reason.is_not(None)),
            )
            .with_for_update()
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
        update(Report)
        .where(Report.id == row.id)
        .values(visibility=new, held_for=[], held_at=None, version=Report.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    event = await staff_event(
        session,
        viewer,
        row,
        "moderated",
        reason=reason,
        data={"action": action, "from_visibility": row.visibility, "to_visibility": new},
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
        update(Report)
        .where(Report.id == row.id)
        .values(
            public_description=public_description,
            public_address=public_address,
            search_text=search_text(shown_description, shown_address),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    event = await staff_event(
        session,
        viewer,
        row,
        "redacted",
        reason=reason,
        data={
            "fields": fields,
            "before": {"description": row.public_description, "address": row.public_address},
            "after": {"description": public_description, "address": public_address},
        },
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
        update(ReportEvent)
        .where(ReportEvent.id == message.id)
        .values(text_status=new, held_for=[], held_at=None)
        .execution_options(synchronize_session=False)
    )
    event = await staff_event(
        session,
        viewer,
        row,
        "moderated",
        reason=reason,
        data={
            "action": action,
            "event_id": str(message.id),
            "event_kind": message.kind,
            "from_text_status": message.text_status,
            "to_text_status": new,
        },
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
            update(Report)
            .where(Report.id == row.id)
            .values(
                visibility="pending_review",
                held_for=held,
                held_at=func.coalesce(Report.held_at, now),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        visibility = "pending_review"
    else:
        message = await _message(session, row.id, event_id)
        if message.text_status == "hidden":
            raise _invalid("text_status", message.text_status, [])
        held = [*message.held_for, FLAGGED] if FLAGGED not in message.held_for else list(message.held_for)
        await session.execute(
            update(ReportEvent)
            .where(ReportEvent.id == message.id)
            .values(text_status="held", held_for=held, held_at=func.coalesce(ReportEvent.held_at, now))
            .execution_options(synchronize_session=False)
        )
        visibility, text_status = row.visibility, "held"
    event = await staff_event(
        session,
        principal,
        row,
        "flagged",
        internal_note=reason,
        data={"event_id": str(event_id)} if event_id else {"from_visibility": row.visibility},
    )
    await session.commit()
    return Decided(visibility, event.id, event_id, text_status)


async def staff_event(
    session: AsyncSession, actor: Principal, row: Any, kind: str, **fields: Any
) -> ReportEvent:
    """A staff-only event on the report `row` (its status unchanged), by `actor`."""
    return await append_event(
        session,
        row.id,
        kind,
        actor_id=actor.id,
        actor_role=actor.role,
        from_status=row.status,
        to_status=row.status,
        is_public=False,
        **fields,
    )
