"""Report events: the one way every change of a case is recorded and announced.

`new_event` builds an event and `insert_event_cte` its insert, which returns in the same round trip
what the event's notifications need (`api.notifications.event_facts_sql`); `notify_event` writes
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

from api.core.db import jsonb, raw_connection
from api.notifications.service import event_facts_sql, notify_event
from api.reports.models import ReportEvent
from moderation import screen_text

_COLUMNS = (
    "id, report_id, kind, actor_id, actor_role, from_status, to_status, public_message, internal_note, "
    "reason, data, is_public, text_status, held_for, held_at"
)
_JSONB_PARAMS = (10, 13)  # data, held_for


def insert_event_cte(first: int) -> str:
    """SQL: `events AS (INSERT … RETURNING *)`, the event from parameters $first… in `event_args`
    order; a statement that goes on with `event_facts_sql("events")` returns what its notifications
    need in the same round trip."""
    params = [f"${first + i}" for i in range(15)]
    for i in _JSONB_PARAMS:
        params[i] += "::jsonb"
    return f"events AS (INSERT INTO report_events ({_COLUMNS}) VALUES ({', '.join(params)}) RETURNING *)"


_INSERT_EVENT_SQL = f"WITH {insert_event_cte(1)}" + event_facts_sql("events")


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


def event_args(event: ReportEvent) -> tuple[Any, ...]:
    """`insert_event_cte`'s parameters."""
    return (
        event.id,
        event.report_id,
        event.kind,
        event.actor_id,
        event.actor_role,
        event.from_status,
        event.to_status,
        event.public_message,
        event.internal_note,
        event.reason,
        jsonb(event.data),
        event.is_public,
        event.text_status,
        jsonb(event.held_for),
        event.held_at,
    )


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
    facts = await (await raw_connection(session)).fetchrow(_INSERT_EVENT_SQL, *event_args(event))
    assert facts is not None  # the join finds the report that the event's foreign key requires
    await notify_event(session, facts)
    return event
