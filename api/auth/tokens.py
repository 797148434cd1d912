"""Signed short-lived access tokens (JWT, HS256) and opaque rotating refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the access token says."""

    id: uuid.UUID
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role != "resident"


class InvalidToken(Exception):
    pass


def encode_access(principal: Principal, secret: str, ttl_s: int) -> str:
    now = int(time.time())
    claims = {
        "sub": str(principal.id),
        "role": principal.role,
        "typ": "access",
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if claims.get("typ") != "access":
        raise InvalidToken("not an access token")
    try:
        return Principal(id=uuid.UUID(claims["sub"]), role=str(claims["role"]))
    except (KeyError, ValueError):
        raise InvalidToken("malformed claims") from None


def new_refresh_token() -> tuple[str, bytes]:
    """(token for the client, hash to store)."""
    token = "rt_" + secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
