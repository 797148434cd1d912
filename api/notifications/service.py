"""Who is told what when a case changes.

- The reporter and the followers, on every public event that changes something for them
  (acknowledged, started, resolved, rejected, merged, transferred, public reply, reopened, closed).
- The officers who work the case, when it arrives (created, transferred in) or is reopened: those of
  the agency it is routed to (power company…) if it has any, otherwise those of its ward (users with
  role officer whose `user_areas` cover the ward); and, from the timer step, when a deadline is near
  or has passed (see `jobs.py`).

The actor of an event is never told about their own action. Reads use plain SQL over the
documented schema (docs/domain.md, api/notifications/sql.py) so this module depends on tables, not on
another feature's model classes. `sql.EVENT_FACTS` reads an event, its case and its recipients in one
statement; the events module ends its insert with it (one round trip per case change).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import push
from api.notifications import sql
from api.notifications import texts as t
from api.notifications.sql import OFFICER_KINDS, RESIDENT_KINDS


async def case_officers(
    session: AsyncSession, ward_code: str | None, agency_code: str | None
) -> list[uuid.UUID]:
    """Who works a case: the officers of the agency it is routed to (power company…), if it has
    any; otherwise the officers of its ward."""
    found = await sql.CASE_OFFICERS.fetchval(session, {"ward_code": ward_code, "agency_code": agency_code})
    return list(found or [])


def _without(users: Sequence[uuid.UUID | None], actor: uuid.UUID | None) -> list[uuid.UUID]:
    return [u for u in dict.fromkeys(users) if u is not None and u != actor]


async def _merged_into(session: AsyncSession, data: dict[str, Any]) -> str:
    """The code of the report a duplicate was merged into (the event's data names it by id or code)."""
    ref = str(data.get("into_code") or data.get("into") or "")
    try:
        report_id = uuid.UUID(ref)
    except ValueError:
        return ref or "?"
    code = await sql.REPORT_CODE.fetchval(session, {"report_id": report_id})
    return str(code or ref)


async def on_report_event(session: AsyncSession, report_id: uuid.UUID, event_id: uuid.UUID) -> None:
    """Write the notifications an event already in the table causes, in the caller's transaction."""
    facts = await sql.EVENT.fetchrow(session, {"event_id": event_id, "report_id": report_id})
    if facts is not None:
        await notify_event(session, facts)


async def notify_event(session: AsyncSession, ev: Mapping[str, Any]) -> None:
    """Write the notifications an event causes (`ev`: a row of `sql.EVENT_FACTS`), in the caller's
    transaction (the caller commits)."""
    kind: str = ev["kind"]
    data: dict[str, Any] = dict(ev["data"] or {})
    code: str = ev["code"]
    payload = {"status": ev["status"], "event": kind, "event_id": str(ev["event_id"])}
    ward_vi = ev["ward_name"] or ev["ward_code"] or ""
    category_vi = ev["category_vi"] or ""
    category_en = ev["category_en"] or category_vi

    if kind in RESIDENT_KINDS and ev["is_public"]:
        # followers only while the case is public (a hidden case tells its reporter alone)
        users = _without([ev["reporter_id"], *(ev["followers"] or ())], ev["actor_id"])
        if users:
            message, reason = ev["public_message"], ev["reason"] or ev["public_message"]
            msg_vi = t.clip(message, t.QUOTE_MAX) if message else ""
            reason = t.clip(reason, t.QUOTE_MAX) if reason else ""
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
        officers = _without(ev["officers"] or (), ev["actor_id"])
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
