"""Partners' API keys: issued and revoked by admins, shown once, stored as a hash.

A key reads `pa_` and 40 url-safe characters (240 bits): guessing is hopeless, so SHA-256 is enough
to store it and lets a request find its key by index. Revoked keys stay (the submissions they brought
keep their partner) and answer 403 like a missing one.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.core import pagination
from api.core.errors import AppError, NotFound
from api.core.text import nfc
from api.open311.models import ApiKey

PREFIX = "pa_"
MAX_NAME = 120


@dataclass(frozen=True, slots=True)
class Issued:
    key: ApiKey
    secret: str  # shown once, never stored


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def _name(raw: str) -> str:
    name = nfc(raw) or ""
    if not name or len(name) > MAX_NAME:
        raise AppError(
            f"A partner's name is 1 to {MAX_NAME} characters.",
            message_vi=f"Tên đối tác dài từ 1 đến {MAX_NAME} ký tự.",
            code="invalid_partner_name",
            details={"field": "name"},
        )
    return name


async def issue(session: AsyncSession, name: str, *, created_by: uuid.UUID | None = None) -> Issued:
    """A new key for the partner `name`. Commits."""
    secret = PREFIX + secrets.token_urlsafe(30)
    key = ApiKey(name=_name(name), key_hash=digest(secret), prefix=secret[:8], created_by=created_by)
    session.add(key)
    await session.commit()
    return Issued(key, secret)


async def revoke(session: AsyncSession, key_id: uuid.UUID) -> ApiKey:
    """Revoke a key (again is harmless). Commits."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("No such API key.", message_vi="Không có khóa API này.", code="api_key_not_found")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.commit()
    return key


async def list_keys(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[ApiKey], str | None]:
    """Every key, newest first; `next_cursor` pages on."""
    stmt = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc()).limit(limit + 1)
    if cursor:
        at, key_id = pagination.decode(cursor, tuple[pagination.Instant, uuid.UUID])
        stmt = stmt.where(tuple_(ApiKey.created_at, ApiKey.id) < tuple_(literal(at), literal(key_id)))
    rows = list((await session.execute(stmt)).scalars())
    return pagination.page(rows, limit, lambda k: (k.created_at, k.id))


async def find(session: AsyncSession, secret: str | None) -> ApiKey | None:
    """The live key `secret` names (and its use noted), or None."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    key = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == digest(secret), ApiKey.revoked_at.is_(None))
    )
    if key is not None:
        await session.execute(
            update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=datetime.now(UTC))
        )
    return key
