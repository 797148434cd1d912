"""`/v1/me/devices` (FCM registration tokens) and `/v1/me/notifications` (the inbox)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.tokens import Principal
from api.core.openapi import errors
from api.core.pagination import Cursor
from api.notifications import service
from api.notifications.schemas import DeviceIn, DeviceOut, InboxOut, ReadIn, ReadOut


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
        return await service.register_device(session, principal.id, data)

    @get("", responses=errors(401), operation_id="listPushDevices")
    async def list_devices(
        self, principal: NamedDependency[Principal], session: NamedDependency[AsyncSession]
    ) -> list[DeviceOut]:
        """Your registered devices."""
        return await service.list_devices(session, principal.id)

    @delete("/{token:str}", status_code=204, responses=errors(401), operation_id="removePushDevice")
    async def remove(
        self,
        token: FromPath[str],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> None:
        """Stop pushes to this token (idempotent: removing an unknown token is not an error)."""
        await service.remove_device(session, principal.id, token)


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
        locale = await service.reader_locale(
            session, principal.id, request.headers.get("accept-language", "")
        )
        return await service.inbox(
            session, principal.id, locale=locale, limit=limit, cursor=cursor, unread_only=unread_only
        )

    @post("/read", status_code=200, responses=errors(401), operation_id="markNotificationsRead")
    async def mark_read(
        self,
        data: JSONBody[ReadIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> ReadOut:
        """Mark notifications read: `{"ids": [...]}` or `{"all": true}`."""
        return await service.mark_read(session, principal.id, data)
