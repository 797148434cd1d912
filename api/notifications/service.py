"""Who is told what when a case changes.

- The reporter and the followers, on every public event that changes something for them
  (acknowledged, started, resolved, rejected, merged, transferred, public reply, reopened, closed,
  put on hold, resumed).
- The officers who work the case, when it arrives (created, transferred in) or is reopened: those of
  the agency it is routed to (power company…) if it has any, otherwise those of its ward (officers
  whose area grants cover the ward: the scope rule read backwards, `api.access.scope.granted_staff`);
  and, from the timer step, when a deadline is near or has passed (see `jobs.py`).

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
from api.access.models import User
from api.core import pagination
from api.core.errors import AppError
from api.core.pagination import Instant
from api.core.text import public
from api.notifications import sql
from api.notifications import texts as t
from api.notifications.announce import announce
from api.notifications.schemas import DeviceIn, DeviceOut, InboxOut, NotificationOut, ReadIn, ReadOut
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


async def notify_event(session: AsyncSession, ev: Mapping[str, Any]) -> None:
    """Write the notifications an event causes (`ev`: a row of `sql.EVENT_FACTS`), in the caller's
    transaction (the caller commits), and announce the change to the live streams once it commits."""
    announce(session, ev)
    kind: str = ev["kind"]
    data: dict[str, Any] = dict(ev["data"] or {})
    code: str = ev["code"]
    payload = {"status": ev["status"], "event": kind, "event_id": str(ev["event_id"])}
    ward_vi = ev["ward_name"] or ev["ward_code"] or ""
    category_vi = ev["category_vi"] or ""
    category_en = ev["category_en"] or category_vi

    # a step recorded together with another action (acknowledged while resolving): one push, the action's
    if kind in RESIDENT_KINDS and ev["is_public"] and not data.get("in_step_with"):
        # followers only while the case is public (a hidden case tells its reporter alone)
        users = _without([ev["reporter_id"], *(ev["followers"] or ())], ev["actor_id"])
        if users:
            # what residents are told of a message is what the public reads of it
            message, reason = ev["public_message"], ev["reason"] or ev["public_message"]
            message, reason = (
                (public(message), public(reason)) if ev["text_status"] == "shown" else (None, None)
            )
            msg_vi = t.clip(message, t.QUOTE_MAX) if message else ""
            reason = t.clip(reason, t.QUOTE_MAX) if reason else ""
            into = await _merged_into(session, data) if kind == "merged" else ""
            waiting = t.WAITING.get(str(ev["reason"] or ""), t.DEFAULT_REASON)
            # a hold's message is optional: the body then ends with what it waits for
            fallback = ("", "") if kind == "on_hold" else t.DEFAULT_MESSAGE
            vi = {
                "code": code,
                "message": msg_vi or fallback[0],
                "reason": reason or t.DEFAULT_REASON[0],
                "into": into,
                "ward": ward_vi,
                "waiting": waiting[0],
            }
            en = {
                **vi,
                "message": msg_vi or fallback[1],
                "reason": reason or t.DEFAULT_REASON[1],
                "waiting": waiting[1],
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


# --- the resident's side: push devices and the inbox ---


def _device_out(d: push.Device) -> DeviceOut:
    return DeviceOut(d.token, d.platform, d.locale, d.app_version, d.created_at, d.updated_at)


async def register_device(session: AsyncSession, user_id: uuid.UUID, data: DeviceIn) -> DeviceOut:
    """Register or refresh a phone's FCM token, and commit; a token another account held moves here."""
    d = await push.register_device(
        session,
        user_id=user_id,
        token=data.token,
        platform=data.platform,
        locale=data.locale,
        app_version=data.app_version,
    )
    await session.commit()
    return _device_out(d)


async def list_devices(session: AsyncSession, user_id: uuid.UUID) -> list[DeviceOut]:
    return [_device_out(d) for d in await push.list_devices(session, user_id)]


async def remove_device(session: AsyncSession, user_id: uuid.UUID, token: str) -> None:
    """Stop pushes to this token, and commit (removing an unknown token is not an error)."""
    await push.remove_device(session, user_id=user_id, token=token)
    await session.commit()


async def reader_locale(session: AsyncSession, user_id: uuid.UUID, accept_language: str) -> str:
    """Accept-Language when given, else the account's language."""
    lang = accept_language.split(",")[0].strip()
    if lang:
        return push.norm_locale(lang)
    user = await session.get(User, user_id)
    return push.norm_locale(user.locale if user else None)


async def inbox(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    locale: str,
    limit: int,
    cursor: str | None,
    unread_only: bool,
) -> InboxOut:
    """A page of the inbox, newest first, with the unread count and the next page's cursor."""
    before = pagination.decode(cursor, tuple[Instant, uuid.UUID]) if cursor else None
    page = await push.inbox(
        session, user_id, locale=locale, limit=limit, before=before, unread_only=unread_only
    )
    items = [
        NotificationOut(
            i.id,
            i.kind,
            i.report_code,
            i.title,
            i.body,
            {k: str(v) for k, v in i.data.items()},
            i.created_at,
            i.read_at,
        )
        for i in page.items
    ]
    last = page.items[-1] if page.more else None
    return InboxOut(items, page.unread, pagination.encode(last.created_at, last.id) if last else None)


async def mark_read(session: AsyncSession, user_id: uuid.UUID, data: ReadIn) -> ReadOut:
    """Mark notifications read (`ids`, or `all`), and commit."""
    if data.all == (data.ids is not None):
        raise AppError(
            'Send either "ids" or "all": true.',
            message_vi='Gửi "ids" hoặc "all": true.',
            code="bad_read_request",
        )
    marked = await push.mark_read(session, user_id, ids=data.ids, all_=data.all)
    await session.commit()
    return ReadOut(marked, await push.unread_count(session, user_id))
