"""Signed short-lived access tokens (JWT, HS256), opaque rotating refresh tokens, and the process's
table of revoked sign-ins.

An access token is accepted without the database. To end an account's tokens before they expire
(erasure, a staff account disabled, a role change, a password reset), `api.access.revocation`
stamps the account with a "not before" time and every API process copies it into `NOT_BEFORE`;
`decode_access` refuses a token issued before its account's time.
"""

from __future__ import annotations

import hashlib
import math
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


class RevokedToken(InvalidToken):
    """A genuine token, issued before its account's sign-ins were ended."""


class NotBefore:
    """Per account, the time (epoch seconds) before which its access tokens are refused.

    Only the revocations younger than the access-token lifetime matter (older ones refuse tokens
    that have expired anyway), so the table stays as small as the recent revocations.
    """

    def __init__(self) -> None:
        self._times: dict[uuid.UUID, float] = {}

    def __len__(self) -> int:
        return len(self._times)

    def get(self, user_id: uuid.UUID) -> float | None:
        return self._times.get(user_id)

    def set(self, user_id: uuid.UUID, not_before: float) -> None:
        """Never moves back: a late or repeated message cannot undo a later revocation."""
        if not_before > self._times.get(user_id, -math.inf):
            self._times[user_id] = not_before

    def forget_older_than(self, cutoff: float) -> None:
        for user_id in [u for u, t in self._times.items() if t < cutoff]:
            del self._times[user_id]

    def snapshot(self) -> dict[uuid.UUID, float]:
        """A copy to `restore`, for tests that roll the database back after a request."""
        return dict(self._times)

    def restore(self, saved: dict[uuid.UUID, float]) -> None:
        self._times = dict(saved)


NOT_BEFORE = NotBefore()
"""This process's table: filled by `api.access.revocation` (its listener and local commits)."""


def encode_access(principal: Principal, secret: str, ttl_s: int) -> str:
    now = time.time()
    claims = {
        "sub": str(principal.id),
        "role": principal.role,
        "typ": "access",
        # to the millisecond: a token issued in the same second as a revocation, but after it,
        # must not be taken for one issued before it
        "iat": math.floor(now * 1000) / 1000,
        "exp": int(now) + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def encode_ticket(principal: Principal, secret: str, ttl_s: int) -> str:
    """A stream ticket: the caller's identity for opening one event stream within `ttl_s` seconds,
    carried in a URL (a browser's EventSource cannot send headers). Short-lived, of its own type,
    so a ticket seen in a log is no access token, and stale within a minute."""
    now = time.time()
    claims = {
        "sub": str(principal.id),
        "role": principal.role,
        "typ": "ticket",
        "iat": math.floor(now * 1000) / 1000,
        "exp": int(now) + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_ticket(ticket: str, secret: str) -> Principal:
    """The ticket's principal; InvalidToken / RevokedToken as `decode_access`."""
    principal, issued_at, _ = _verify(ticket, secret, typ="ticket")
    not_before = NOT_BEFORE.get(principal.id)
    if not_before is not None and issued_at < not_before:
        raise RevokedToken("issued before the account's sign-ins were ended")
    return principal


def decode_access(token: str, secret: str) -> Principal:
    """The token's principal. InvalidToken when it is malformed, forged, expired or not an access
    token; RevokedToken when it was issued before its account's not-before time (`NOT_BEFORE`).

    The one check of an access token, for the bearer middleware and the fast paths alike. Verified
    tokens are remembered until they expire (a phone sends the same token with every request;
    checking its signature again costs more than the rest of a ward lookup); the not-before time is
    looked up on every call.
    """
    key = (token, secret)
    known = _verified.get(key)
    if known is not None and time.time() >= known[2]:
        del _verified[key]
        known = None
    if known is None:
        known = _verify(token, secret)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()  # bounded memory; the live tokens come back on their next request
        _verified[key] = known
    principal, issued_at, _ = known
    not_before = NOT_BEFORE.get(principal.id)
    if not_before is not None and issued_at < not_before:
        raise RevokedToken("issued before the account's sign-ins were ended")
    return principal


def _verify(token: str, secret: str, *, typ: str = "access") -> tuple[Principal, float, float]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if claims.get("typ") != typ:
        raise InvalidToken(f"not an {typ} token")
    try:
        principal = Principal(id=uuid.UUID(claims["sub"]), role=str(claims["role"]))
        issued_at = float(claims.get("iat", 0))  # none: as old as can be, refused by any not-before
    except (KeyError, ValueError, TypeError):
        raise InvalidToken("malformed claims") from None
    return principal, issued_at, float(claims["exp"])


_VERIFIED_MAX = 10_000
_verified: dict[tuple[str, str], tuple[Principal, float, float]] = {}


def new_refresh_token() -> tuple[str, bytes]:
    """(token for the client, hash to store)."""
    token = "rt_" + secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
