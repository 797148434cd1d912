"""Appending a report event: the one way every change of a case is recorded and announced."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.db import jsonb, raw_connection
from api.notifications import event_facts_sql, notify_event
from api.reports.models import ReportEvent

# The event, and in the same round trip what its notifications need (the case, its recipients).
_INSERT_EVENT_SQL = """
WITH events AS (
    INSERT INTO report_events (id, report_id, kind, actor_id, actor_role, from_status, to_status,
                               public_message, internal_note, reason, data, is_public)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12)
    RETURNING *
)""" + event_facts_sql("events")


async def append_event(
    session: AsyncSession,
    report_id: uuid.UUID,
    kind: str,
    *,
    actor_id: uuid.UUID | None = None,
    actor_role: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    public_message: str | None = None,
    internal_note: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    is_public: bool = True,
) -> ReportEvent:
    """Add the event and the notifications it causes to the caller's transaction (the caller commits).

    One prepared statement on the session's connection (the event, the case, the recipients) rather
    than `session.add` + flush + reads: every case change passes here, and the ORM's unit of work
    costs more than the statement itself. Pending ORM changes (the report's new status) are flushed
    first, so the notifications see them. The returned object is not in the session.
    """
    event = ReportEvent(
        id=uuid.uuid4(),
        report_id=report_id,
        kind=kind,
        actor_id=actor_id,
        actor_role=actor_role,
        from_status=from_status,
        to_status=to_status,
        public_message=public_message,
        internal_note=internal_note,
        reason=reason,
        data=data or {},
        is_public=is_public,
    )
    raw = await raw_connection(session)
    facts = await raw.fetchrow(
        _INSERT_EVENT_SQL,
        event.id,
        report_id,
        kind,
        actor_id,
        actor_role,
        from_status,
        to_status,
        public_message,
        internal_note,
        reason,
        jsonb(event.data),
        is_public,
    )
    assert facts is not None  # the join finds the report that the event's foreign key requires
    await notify_event(session, facts)
    return event
