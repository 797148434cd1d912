"""Fills `connection.user` with the caller's `Principal` (or None when no token is sent).

Residents are stateless: their access token is verified without touching the database, so the hot
paths stay cheap. Staff tokens are checked against `users` on every request (one primary-key read):
an account that was disabled or given another role loses its powers at once, not when its token
runs out. A token that is present but bad is a 401, so the app knows to refresh or sign in again.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp
from sqlalchemy import select

from api.access.models import User
from api.access.tokens import InvalidToken, Principal, decode_access
from api.core.db import Database
from api.core.errors import Unauthorized


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, secret: str, exclude: list[str] | None = None) -> None:
        super().__init__(app, exclude=exclude)
        self.secret = secret

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if not header:
            return AuthenticationResult(user=None, auth=None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized(
                "Use 'Authorization: Bearer <token>'.",
                message_vi="Sai định dạng mã truy cập.",
                code="invalid_token",
            )
        try:
            principal = decode_access(token.strip(), self.secret)
        except InvalidToken:
            raise Unauthorized(
                "The access token is invalid or expired.",
                message_vi="Mã truy cập không hợp lệ hoặc đã hết hạn.",
                code="invalid_token",
            ) from None
        if principal.is_staff and not await _staff_still_valid(connection.app.state.db, principal):
            raise Unauthorized(
                "This account was disabled or changed; sign in again.",
                message_vi="Tài khoản đã bị khoá hoặc thay đổi; vui lòng đăng nhập lại.",
                code="invalid_token",
            )
        return AuthenticationResult(user=principal, auth=token)


async def _staff_still_valid(db: Database, principal: Principal) -> bool:
    async with db.connect() as conn:
        found = await conn.execute(
            select(User.id).where(User.id == principal.id, User.role == principal.role, ~User.disabled)
        )
        return found.first() is not None
