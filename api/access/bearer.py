"""The caller of a request, from its `Authorization` header: the one reading of bearer tokens, for
the middleware (Litestar) and for the fast paths (api/core/fastpath.py).

An access token is checked without the database, for residents and staff alike (`decode_access`):
its signature, its expiry, and the account's not-before time, which every API process keeps in
memory (api/access/revocation.py). Erasing an account, disabling a staff account, changing its role
or resetting its password ends its tokens in every process within moments, not when they expire.
A token that is present but bad is a 401, so the app knows to refresh or sign in again.
"""

from __future__ import annotations

from api.access.tokens import InvalidToken, Principal, RevokedToken, decode_access, decode_ticket
from api.core.errors import Unauthorized


def authenticate(header: str | None, secret: str) -> Principal | None:
    """The caller of an `Authorization` header: None without one, else its principal or a 401."""
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
        return decode_access(token.strip(), secret)
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


def ticket_holder(ticket: str, secret: str) -> Principal:
    """The caller a stream ticket names (api.access.tokens.encode_ticket); 401 when it is bad,
    expired or its account's sign-ins were ended."""
    try:
        return decode_ticket(ticket, secret)
    except InvalidToken:
        raise Unauthorized(
            "The stream ticket is invalid or expired; ask for a new one.",
            message_vi="Vé kết nối không hợp lệ hoặc đã hết hạn; vui lòng lấy vé mới.",
            code="invalid_ticket",
        ) from None


def signed_in(user: object) -> Principal:
    """The signed-in caller; 401 when there is none."""
    if not isinstance(user, Principal):
        raise Unauthorized("Sign-in is required.", message_vi="Cần đăng nhập.")
    return user
