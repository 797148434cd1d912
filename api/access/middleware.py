"""Fills `connection.user` with the caller's `Principal` (or None when no token is sent).

An access token is checked without the database, for residents and staff alike (`decode_access`):
its signature, its expiry, and the account's not-before time, which every API process keeps in
memory (api/access/revocation.py). Erasing an account, disabling a staff account, changing its role
or resetting its password ends its tokens in every process within moments, not when they expire.
A token that is present but bad is a 401, so the app knows to refresh or sign in again.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from api.access.tokens import InvalidToken, RevokedToken, decode_access
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
        except RevokedToken:
            raise Unauthorized(
                "This sign-in has ended (the account was disabled or changed); sign in again.",
                message_vi="Phiên đăng nhập đã kết thúc (tài khoản đã bị khoá hoặc thay đổi); vui lòng đăng nhập lại.",
                code="invalid_token",
            ) from None
        except InvalidToken:
            raise Unauthorized(
                "The access token is invalid or expired.",
                message_vi="Mã truy cập không hợp lệ hoặc đã hết hạn.",
                code="invalid_token",
            ) from None
        return AuthenticationResult(user=principal, auth=token)
