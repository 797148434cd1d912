"""Report events: the one way every change of a case is recorded and announced.

`new_event` builds an event and `sql.INSERT_EVENT` is its insert, which returns in the same round
trip what the event's notifications need (`api.notifications.sql.EVENT_FACTS`); `notify_event` writes
them. `append_event` does all of it for a change of an existing case; submission embeds the insert
in the statement that writes the new report.

What a resident writes into an event (a reopen reason, a rating comment) is screened here, as every
event passes here: abuse holds that message alone for a moderator (`text_status` held), the case
goes on.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from api.core.db import jsonb
from api.notifications.service import notify_event
from api.reports import sql
from api.reports.models import ReportEvent
from moderation import screen_text


class EventFields(TypedDict, total=False):
    actor_id: uuid.UUID | None
    actor_role: str | None
    from_status: str | None
    to_status: str | None
    public_message: str | None
    internal_note: str | None
    reason: str | None
    data: dict[str, Any] | None
    is_public: bool


def new_event(report_id: uuid.UUID, kind: str, **fields: Unpack[EventFields]) -> ReportEvent:
    """An event to write (not in any session); public unless said otherwise. A resident's message
    that screening finds abusive is held."""
    held: list[str] = []
    if fields.get("actor_role") == "resident":
        held = screen_text(fields.get("public_message"), fields.get("reason")).reasons
    return ReportEvent(
        id=uuid.uuid4(),
        report_id=report_id,
        kind=kind,
        actor_id=fields.get("actor_id"),
        actor_role=fields.get("actor_role"),
        from_status=fields.get("from_status"),
        to_status=fields.get("to_status"),
        public_message=fields.get("public_message"),
        internal_note=fields.get("internal_note"),
        reason=fields.get("reason"),
        data=fields.get("data") or {},
        is_public=fields.get("is_public", True),
        text_status="held" if held else "shown",
        held_for=held,
        held_at=datetime.now(UTC) if held else None,
    )


def event_params(event: ReportEvent) -> dict[str, Any]:
    """`sql.INSERT_EVENT`'s parameters."""
    return {
        "event_id": event.id,
        "event_report_id": event.report_id,
        "event_kind": event.kind,
        "event_actor_id": event.actor_id,
        "event_actor_role": event.actor_role,
        "event_from_status": event.from_status,
        "event_to_status": event.to_status,
        "event_public_message": event.public_message,
        "event_internal_note": event.internal_note,
        "event_reason": event.reason,
        "event_data": jsonb(event.data),
        "event_is_public": event.is_public,
        "event_text_status": event.text_status,
        "event_held_for": jsonb(event.held_for),
        "event_held_at": event.held_at,
    }


async def append_event(
    session: AsyncSession, report_id: uuid.UUID, kind: str, **fields: Unpack[EventFields]
) -> ReportEvent:
    """Add the event and the notifications it causes to the caller's transaction (the caller commits).

    `fields`: those of `new_event`. One prepared statement on the session's connection (the event,
    the case, the recipients) rather than `session.add` + flush + reads: every case change passes
    here, and the ORM's unit of work costs more than the statement itself. Pending ORM changes (the
    report's new status) are flushed first, so the notifications see them. The returned object is
    not in the session.
    """
    event = new_event(report_id, kind, **fields)
    facts = await sql.APPEND_EVENT.fetchrow(session, event_params(event))
    assert facts is not None  # the join finds the report that the event's foreign key requires
    await notify_event(session, facts)
    return event
