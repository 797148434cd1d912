"""`/v1/me/devices` (FCM registration tokens) and `/v1/me/notifications` (the inbox)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

import push
from api.access.models import User
from api.access.tokens import Principal
from api.core import pagination
from api.core.errors import AppError
from api.core.openapi import errors
from api.core.pagination import Cursor, Instant
from api.notifications.schemas import DeviceIn, DeviceOut, InboxOut, NotificationOut, ReadIn, ReadOut


class DevicesController(Controller):
    path = "/v1/me/devices"
    tags = ["notifications"]

    @post("", status_code=200, responses=errors(401), operation_id="registerPushDevice")
    async def register(
        self,
        data: JSONBody[DeviceIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> DeviceOut:
        """Register or refresh this phone's FCM token. A token another account held moves to you."""
        d = await push.register_device(
            session,
            user_id=principal.id,
            token=data.token,
            platform=data.platform,
            locale=data.locale,
            app_version=data.app_version,
        )
        await session.commit()
        return DeviceOut(d.token, d.platform, d.locale, d.app_version, d.created_at, d.updated_at)

    @get("", responses=errors(401), operation_id="listPushDevices")
    async def list_devices(
        self, principal: NamedDependency[Principal], session: NamedDependency[AsyncSession]
    ) -> list[DeviceOut]:
        """Your registered devices."""
        return [
            DeviceOut(d.token, d.platform, d.locale, d.app_version, d.created_at, d.updated_at)
            for d in await push.list_devices(session, principal.id)
        ]

    @delete("/{token:str}", status_code=204, responses=errors(401), operation_id="removePushDevice")
    async def remove(
        self,
        token: FromPath[str],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> None:
        """Stop pushes to this token (idempotent: removing an unknown token is not an error)."""
        await push.remove_device(session, user_id=principal.id, token=token)
        await session.commit()


async def _reader_locale(request: Request[Any, Any, Any], session: AsyncSession, principal: Principal) -> str:
    """Accept-Language when given, else the account's language."""
    lang = request.headers.get("accept-language", "").split(",")[0].strip()
    if lang:
        return push.norm_locale(lang)
    user = await session.get(User, principal.id)
    return push.norm_locale(user.locale if user else None)


class NotificationsController(Controller):
    path = "/v1/me/notifications"
    tags = ["notifications"]

    @get("", responses=errors(400, 401), operation_id="listNotifications")
    async def list_notifications(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        cursor: Cursor = None,
        unread_only: Annotated[bool, QueryParameter()] = False,
    ) -> InboxOut:
        """Your inbox, newest first, with the unread count; follow `next_cursor` for older ones."""
        before = pagination.decode(cursor, tuple[Instant, uuid.UUID]) if cursor else None
        locale = await _reader_locale(request, session, principal)
        page = await push.inbox(
            session, principal.id, locale=locale, limit=limit, before=before, unread_only=unread_only
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
        next_cursor = pagination.encode(last.created_at, last.id) if last else None
        return InboxOut(items, page.unread, next_cursor)

    @post("/read", status_code=200, responses=errors(401), operation_id="markNotificationsRead")
    async def mark_read(
        self,
        data: JSONBody[ReadIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> ReadOut:
        """Mark notifications read: `{"ids": [...]}` or `{"all": true}`."""
        if data.all == (data.ids is not None):
            raise AppError(
                'Send either "ids" or "all": true.',
                message_vi='Gửi "ids" hoặc "all": true.',
                code="bad_read_request",
            )
        marked = await push.mark_read(session, principal.id, ids=data.ids, all_=data.all)
        await session.commit()
        return ReadOut(marked, await push.unread_count(session, principal.id))
