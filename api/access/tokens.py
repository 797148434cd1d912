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
    """The token's principal; InvalidToken when it is malformed, forged, expired or not an access token.

    Verified tokens are remembered until they expire (a phone sends the same token with every
    request; checking its signature again costs more than the rest of a ward lookup).
    """
    key = (token, secret)
    known = _verified.get(key)
    if known is not None:
        principal, expires = known
        if time.time() < expires:
            return principal
        del _verified[key]
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if claims.get("typ") != "access":
        raise InvalidToken("not an access token")
    try:
        principal = Principal(id=uuid.UUID(claims["sub"]), role=str(claims["role"]))
    except (KeyError, ValueError):
        raise InvalidToken("malformed claims") from None
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()  # bounded memory; the live tokens come back on their next request
    _verified[key] = (principal, float(claims["exp"]))
    return principal


_VERIFIED_MAX = 10_000
_verified: dict[tuple[str, str], tuple[Principal, float]] = {}


def new_refresh_token() -> tuple[str, bytes]:
    """(token for the client, hash to store)."""
    token = "rt_" + secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
