from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.models import User
from api.access.tokens import Principal
from api.accounts import service
from api.accounts.export import export_resident
from api.accounts.schemas import DeviceIn, LogoutIn, MeOut, MePatch, RefreshIn, ResidentExport, TokensOut
from api.core import clock
from api.core.errors import Unauthorized, wants_english
from api.core.openapi import PUBLIC, errors
from api.core.ratelimit import Limits
from api.core.settings import Settings


def tokens_out(t: service.IssuedTokens) -> TokensOut:
    return TokensOut(t.access_token, t.refresh_token, t.expires_in, t.user_id, t.role)


class AuthController(Controller):
    path = "/v1/auth"
    tags = ["auth"]

    @post(
        "/device", status_code=200, security=PUBLIC, responses=errors(401, 429), operation_id="registerDevice"
    )
    async def register_install(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[DeviceIn],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> TokensOut:
        """Register an app install (no password, no personal data) with its device id and the secret
        the app generated at install, and get tokens. The same id and secret again: the same resident."""
        limits: Limits = request.app.state.limits
        client_ip = request.client.host if request.client else "unknown"
        issued = await service.register_install(
            session,
            settings,
            device_id=data.device_id,
            device_secret=data.device_secret,
            platform=data.platform,
            locale=data.locale,
            app_version=data.app_version,
            limits=((limits.register_ip, client_ip),),
        )
        return tokens_out(issued)

    @post("/refresh", status_code=200, security=PUBLIC, responses=errors(401), operation_id="refreshTokens")
    async def refresh(
        self,
        data: JSONBody[RefreshIn],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> TokensOut:
        """Trade a refresh token for new tokens; the old refresh token stops working. An app install
        registered without a device secret sends its new one here."""
        return tokens_out(await service.refresh(session, settings, data.refresh_token, data.device_secret))

    @post("/logout", status_code=204, security=PUBLIC, operation_id="logout")
    async def logout(self, data: JSONBody[LogoutIn], session: NamedDependency[AsyncSession]) -> None:
        """Revoke the refresh token's session."""
        await service.revoke_family(session, data.refresh_token)


class MeController(Controller):
    path = "/v1/me"
    tags = ["me"]

    @get("", responses=errors(401), operation_id="getMe")
    async def me(
        self, principal: NamedDependency[Principal], session: NamedDependency[AsyncSession]
    ) -> MeOut:
        """The signed-in user."""
        user = await session.get(User, principal.id)
        if user is None or user.disabled:
            raise Unauthorized("This account no longer exists.", message_vi="Tài khoản không còn tồn tại.")
        return MeOut(user.id, user.role, user.locale, user.display_name, user.phone, user.username)

    @patch("", responses=errors(400, 401), operation_id="updateMe")
    async def update_me(
        self,
        data: JSONBody[MePatch],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
    ) -> MeOut:
        """Add or change an optional display name, phone number or language."""
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        user = await service.update_profile(session, principal.id, changes)
        return MeOut(user.id, user.role, user.locale, user.display_name, user.phone, user.username)

    @delete("", status_code=204, responses=errors(401, 403), operation_id="eraseMe")
    async def erase_me(
        self, principal: NamedDependency[Principal], session: NamedDependency[AsyncSession]
    ) -> None:
        """Leave: erase my name, phone, devices and sign-ins; my reports stay, anonymous."""
        await service.erase_resident(session, principal.id)

    @get("/export", responses=errors(401, 403), operation_id="exportMe")
    async def export_me(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[ResidentExport]:
        """Everything held about me, as a JSON file: account, app installs, push devices, my reports,
        follows, ratings and notifications. Residents only (403 for staff)."""
        export = await export_resident(session, settings, principal, english=wants_english(request))
        day = clock.local_date(export.generated_at).isoformat()
        return Response(
            export, headers={"Content-Disposition": f'attachment; filename="phananh-export-{day}.json"'}
        )
