"""Devices, the inbox, and writing notifications (inbox + outbox rows) in the caller's transaction.

Nothing here commits: callers own the unit of work, so a notification commits (or rolls back)
with the event that caused it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from push import sql
from push.models import Device, Notification

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"


def norm_locale(locale: str | None) -> str:
    """'en-US' → 'en'; anything we have no texts for → Vietnamese."""
    lang = (locale or "").split("-")[0].split("_")[0].lower()
    return lang if lang in LOCALES else DEFAULT_LOCALE


@dataclass(frozen=True, slots=True)
class Text:
    title: str
    body: str


# ---- devices -------------------------------------------------------------------------------


async def register_device(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    token: str,
    platform: str,
    locale: str,
    app_version: str | None = None,
) -> Device:
    """Register or refresh a token. A token already held by another user moves to this one."""
    stmt = (
        insert(Device)
        .values(
            token=token,
            user_id=user_id,
            platform=platform,
            locale=norm_locale(locale),
            app_version=app_version,
        )
        .on_conflict_do_update(
            index_elements=[Device.token],
            set_={
                "user_id": user_id,
                "platform": platform,
                "locale": norm_locale(locale),
                "app_version": app_version,
                "updated_at": func.now(),
            },
        )
        .returning(Device)
    )
    device = (await session.execute(stmt)).scalar_one()
    await session.refresh(device)
    return device


async def remove_device(session: AsyncSession, *, user_id: uuid.UUID, token: str) -> bool:
    """Remove one of the user's tokens; False when the user holds no such token."""
    result = await session.execute(
        delete(Device).where(Device.token == token, Device.user_id == user_id).returning(Device.token)
    )
    return result.first() is not None


async def remove_all_devices(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    """Forget every token of the user (account erased); returns how many there were."""
    result = await session.execute(delete(Device).where(Device.user_id == user_id).returning(Device.token))
    return len(result.all())


async def list_devices(session: AsyncSession, user_id: uuid.UUID) -> list[Device]:
    rows = await session.scalars(select(Device).where(Device.user_id == user_id).order_by(Device.created_at))
    return list(rows)


# ---- writing notifications -----------------------------------------------------------------


async def notify(
    session: AsyncSession,
    *,
    user_ids: Sequence[uuid.UUID],
    kind: str,
    texts: Mapping[str, Text],
    report_code: str | None = None,
    data: Mapping[str, str] | None = None,
    dedupe_key: str | None = None,
) -> list[uuid.UUID]:
    """Put a notification in each user's inbox and queue a push to each of their devices.

    `texts` holds a `Text` per locale ("vi" required; "en" falls back to it). `data` is the push's
    data payload (strings only, as FCM wants). With `dedupe_key`, a user who already has a
    notification with that key gets nothing new. Returns the new notifications' ids.
    """
    users = list(dict.fromkeys(user_ids))
    if not users:
        return []
    vi = texts[DEFAULT_LOCALE]
    en = texts.get("en", vi)
    payload: dict[str, str] = {"kind": kind, **({"report_code": report_code} if report_code else {})}
    payload.update({k: str(v) for k, v in (data or {}).items()})
    result = await session.execute(
        sql.INSERT_NOTIFICATIONS,
        {
            "user_ids": users,
            "kind": kind,
            "report_code": report_code,
            "title_vi": vi.title,
            "body_vi": vi.body,
            "title_en": en.title,
            "body_en": en.body,
            "data": payload,
            "dedupe_key": dedupe_key,
        },
    )
    return [row[0] for row in result]


# ---- reading the inbox ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: uuid.UUID
    kind: str
    report_code: str | None
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class InboxPage:
    items: list[InboxItem]
    unread: int
    more: bool  # older items follow the last one


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    n = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(n or 0)


async def inbox(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    locale: str,
    limit: int = 20,
    before: tuple[datetime, uuid.UUID] | None = None,
    unread_only: bool = False,
) -> InboxPage:
    """Newest first, keyset-paginated: `before` is the (created_at, id) of the last item seen."""
    lang = norm_locale(locale)
    q = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    if before is not None:
        when, id_ = before
        q = q.where(
            (Notification.created_at < when) | ((Notification.created_at == when) & (Notification.id < id_))
        )
    q = q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
    rows = list(await session.scalars(q))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        InboxItem(
            id=n.id,
            kind=n.kind,
            report_code=n.report_code,
            title=n.title_en if lang == "en" else n.title_vi,
            body=n.body_en if lang == "en" else n.body_vi,
            data=n.data,
            created_at=n.created_at,
            read_at=n.read_at,
        )
        for n in rows
    ]
    return InboxPage(items, await unread_count(session, user_id), more and bool(rows))


async def mark_read(
    session: AsyncSession, user_id: uuid.UUID, *, ids: Sequence[uuid.UUID] | None = None, all_: bool = False
) -> int:
    """Mark some (or all) of the user's notifications read; returns how many changed."""
    q = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if not all_:
        q = q.where(Notification.id.in_(list(ids or [])))
    result = await session.execute(q.values(read_at=func.now()).returning(Notification.id))
    return len(result.all())


# ---- erasure -------------------------------------------------------------------------------


async def forget_reports(session: AsyncSession, report_codes: Sequence[str]) -> int:
    """Delete every inbox entry about these reports, whoever's inbox it is in, with its pushes (the
    outbox rows go with it); returns how many entries. An entry ties its reader to the case, so it goes
    when the case's personal data is erased."""
    if not report_codes:
        return 0
    result = await session.execute(
        delete(Notification)
        .where(Notification.report_code.in_(list(report_codes)))
        .returning(Notification.id)
    )
    return len(result.all())
