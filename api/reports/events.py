"""Appending a report event: the one way every change of a case is recorded and announced."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.notifications import on_report_event
from api.reports.models import ReportEvent


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

    A Core insert rather than `session.add` + flush: every case change passes here, and the ORM's
    unit of work costs more than the statement itself. The returned object is not in the session.
    """
    values: dict[str, Any] = dict(
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
    await session.execute(insert(_EVENTS).values(values))
    await on_report_event(session, report_id, values["id"])
    return ReportEvent(**values)


_EVENTS = cast(Table, ReportEvent.__table__)
