"""The caller of a request, from its `Authorization` header: the one reading of bearer tokens, for
the middleware (Litestar) and for the fast paths (api/core/fastpath.py).

Residents are stateless: their access token is verified without touching the database, so the hot
paths stay cheap. Staff tokens are checked against `users` on every request (one primary-key read):
an account that was disabled or given another role loses its powers at once, not when its token
runs out. A token that is present but bad is a 401, so the app knows to refresh or sign in again.
"""

from __future__ import annotations

from sqlalchemy import text

from api.access.tokens import InvalidToken, Principal, decode_access
from api.core.db import Database
from api.core.errors import Unauthorized

_STAFF_STILL_VALID = text("SELECT 1 FROM users WHERE id = :id AND role = :role AND NOT disabled")


async def authenticate(header: str | None, secret: str, db: Database) -> Principal | None:
    """The caller of an `Authorization` header: None without one, else its principal or a 401.
    The one reading of the header, for this middleware and for the fast paths (api/core/fastpath.py)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Use 'Authorization: Bearer <token>'.",
            message_vi="Sai định dạng mã truy cập.",
            code="invalid_token",
        )
    try:
        principal = decode_access(token.strip(), secret)
    except InvalidToken:
        raise Unauthorized(
            "The access token is invalid or expired.",
            message_vi="Mã truy cập không hợp lệ hoặc đã hết hạn.",
            code="invalid_token",
        ) from None
    if principal.is_staff and not await _staff_still_valid(db, principal):
        raise Unauthorized(
            "This account was disabled or changed; sign in again.",
            message_vi="Tài khoản đã bị khoá hoặc thay đổi; vui lòng đăng nhập lại.",
            code="invalid_token",
        )
    return principal


def signed_in(user: object) -> Principal:
    """The signed-in caller; 401 when there is none."""
    if not isinstance(user, Principal):
        raise Unauthorized("Sign-in is required.", message_vi="Cần đăng nhập.")
    return user


async def _staff_still_valid(db: Database, principal: Principal) -> bool:
    async with db.connect() as conn:
        row = await conn.execute(_STAFF_STILL_VALID, {"id": principal.id, "role": principal.role})
        return row.first() is not None
