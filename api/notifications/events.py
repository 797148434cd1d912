"""Who is told what when a case changes.

- The reporter and the followers, on every public event that changes something for them
  (acknowledged, started, resolved, rejected, merged, transferred, public reply, reopened, closed).
- The officers of the ward (users with role officer whose `user_areas` cover the ward), when a case
  arrives (created, transferred in) or is reopened; and, from the timer step, when a deadline is
  near or has passed (see `deadlines.py`).

The actor of an event is never told about their own action. Reads use plain SQL over the
documented schema (docs/domain.md) so this module depends on tables, not on another feature's
model classes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import push
from api.db import raw_connection
from api.notifications import texts as t

RESIDENT_KINDS = frozenset(t.RESIDENT)
OFFICER_KINDS = frozenset({"created", "transferred", "reopened"})

_EVENT_SQL = """
    SELECT e.kind, e.is_public, e.actor_id, e.public_message, e.reason, e.data,
           r.id AS report_id, r.code, r.reporter_id, r.status, r.ward_code, r.agency_code, r.visibility,
           c.name_vi AS category_vi, c.name_en AS category_en,
           w.name AS ward_name
    FROM report_events e
    JOIN reports r ON r.id = e.report_id
    LEFT JOIN categories c ON c.code = r.category_code
    LEFT JOIN areas w ON w.code = r.ward_code
    WHERE e.id = $1 AND e.report_id = $2
"""


@dataclass(frozen=True, slots=True)
class _Event:
    """An event with what its notifications say about the case (the columns of _EVENT_SQL)."""

    kind: str
    is_public: bool
    actor_id: uuid.UUID | None
    public_message: str | None
    reason: str | None
    data: dict[str, Any] | None
    report_id: uuid.UUID
    code: str
    reporter_id: uuid.UUID | None
    status: str
    ward_code: str | None
    agency_code: str | None
    visibility: str
    category_vi: str | None
    category_en: str | None
    ward_name: str | None


_FOLLOWERS_SQL = "SELECT user_id FROM report_follows WHERE report_id = $1"

# Officers whose scope (any area above or at the ward) covers the ward.
_WARD_OFFICERS_SQL = """
    SELECT DISTINCT u.id
    FROM areas w
    JOIN user_areas ua ON ua.area_code = ANY(w.lineage)
    JOIN users u ON u.id = ua.user_id
    WHERE w.code = $1 AND u.role = 'officer' AND NOT u.disabled
"""

_REPORT_CODE_SQL = "SELECT code FROM reports WHERE id = $1"

_AGENCY_OFFICERS_SQL = """
    SELECT DISTINCT u.id FROM user_agencies ua JOIN users u ON u.id = ua.user_id
    WHERE ua.agency_code = $1 AND u.role = 'officer' AND NOT u.disabled
"""


async def ward_officers(session: AsyncSession, ward_code: str | None) -> list[uuid.UUID]:
    if not ward_code:
        return []
    return [row[0] for row in await (await raw_connection(session)).fetch(_WARD_OFFICERS_SQL, ward_code)]


async def case_officers(
    session: AsyncSession, ward_code: str | None, agency_code: str | None
) -> list[uuid.UUID]:
    """Who works a case: the officers of the agency it is routed to (power company…), if it has
    any; otherwise the officers of its ward."""
    if agency_code:
        raw = await raw_connection(session)
        found = [row[0] for row in await raw.fetch(_AGENCY_OFFICERS_SQL, agency_code)]
        if found:
            return found
    return await ward_officers(session, ward_code)


def _without(users: Sequence[uuid.UUID | None], actor: uuid.UUID | None) -> list[uuid.UUID]:
    return [u for u in dict.fromkeys(users) if u is not None and u != actor]


async def _merged_into(session: AsyncSession, data: dict[str, Any]) -> str:
    """The code of the report a duplicate was merged into (the event's data names it by id or code)."""
    ref = str(data.get("into_code") or data.get("into") or "")
    try:
        report_id = uuid.UUID(ref)
    except ValueError:
        return ref or "?"
    code = await (await raw_connection(session)).fetchval(_REPORT_CODE_SQL, report_id)
    return str(code or ref)


async def on_report_event(session: AsyncSession, report_id: uuid.UUID, event_id: uuid.UUID) -> None:
    """Write the notifications an event causes, in the caller's transaction (the caller commits)."""
    raw = await raw_connection(session)
    row = await raw.fetchrow(_EVENT_SQL, event_id, report_id)
    if row is None:
        return
    ev = _Event(**row)
    kind = ev.kind
    data: dict[str, Any] = dict(ev.data or {})
    code = ev.code
    payload = {"status": ev.status, "event": kind, "event_id": str(event_id)}
    ward_vi = ev.ward_name or ev.ward_code or ""
    category_vi = ev.category_vi or ""
    category_en = ev.category_en or category_vi

    if kind in RESIDENT_KINDS and ev.is_public:
        # followers only while the case is public (a hidden case tells its reporter alone)
        followers = (
            [r[0] for r in await raw.fetch(_FOLLOWERS_SQL, ev.report_id)] if ev.visibility == "public" else []
        )
        users = _without([ev.reporter_id, *followers], ev.actor_id)
        if users:
            msg_vi = t.clip(ev.public_message, t.QUOTE_MAX) if ev.public_message else ""
            reason = (
                t.clip(ev.reason or ev.public_message, t.QUOTE_MAX)
                if (ev.reason or ev.public_message)
                else ""
            )
            into = await _merged_into(session, data) if kind == "merged" else ""
            vi = {
                "code": code,
                "message": msg_vi or t.DEFAULT_MESSAGE[0],
                "reason": reason or t.DEFAULT_REASON[0],
                "into": into,
                "ward": ward_vi,
            }
            en = {
                **vi,
                "message": msg_vi or t.DEFAULT_MESSAGE[1],
                "reason": reason or t.DEFAULT_REASON[1],
            }
            await push.notify(
                session,
                user_ids=users,
                kind=kind,
                texts=t.render(t.RESIDENT[kind], vi, en),
                report_code=code,
                data=payload,
            )

    if kind in OFFICER_KINDS:
        officers = _without(await case_officers(session, ev.ward_code, ev.agency_code), ev.actor_id)
        if officers:
            vi = {"code": code, "category": category_vi, "ward": ward_vi}
            en = {**vi, "category": category_en}
            await push.notify(
                session,
                user_ids=officers,
                kind=f"officer_{kind}",
                texts=t.render(t.OFFICER[kind], vi, en),
                report_code=code,
                data=payload,
            )
