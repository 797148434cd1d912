"""Admins' side of webhooks: register, change and remove endpoints, read the delivery log, replay."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.core import pagination
from api.core.errors import AppError, NotFound
from api.core.net import UnsafeUrl, check_public
from api.core.settings import Settings
from api.webhooks.models import WebhookDelivery, WebhookEndpoint


def _not_found() -> NotFound:
    return NotFound(
        "No such webhook endpoint.", message_vi="Không có điểm nhận webhook này.", code="webhook_not_found"
    )


async def _check_url(url: str, settings: Settings) -> str:
    try:
        await check_public(url, allow_private=settings.webhook_allow_private)
    except UnsafeUrl as exc:
        raise AppError(
            f"This webhook URL cannot be used: {exc}.",
            message_vi="Không dùng được địa chỉ webhook này: chỉ nhận http(s) tới địa chỉ công khai.",
            code="invalid_webhook_url",
            details={"url": url},
        ) from None
    return url


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def register(
    session: AsyncSession, settings: Settings, data: dict[str, Any], *, created_by: uuid.UUID | None
) -> WebhookEndpoint:
    """A new endpoint (its secret is shown in this answer only). Commits."""
    endpoint = WebhookEndpoint(
        url=await _check_url(data["url"], settings),
        secret=new_secret(),
        description=data.get("description"),
        areas=list(data.get("areas") or []),
        categories=list(data.get("categories") or []),
        event_types=list(data.get("event_types") or []),
        created_by=created_by,
    )
    session.add(endpoint)
    await session.commit()
    return endpoint


async def change(
    session: AsyncSession, settings: Settings, endpoint_id: uuid.UUID, changes: dict[str, Any]
) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise _not_found()
    if changes.get("url") is not None:
        changes["url"] = await _check_url(changes["url"], settings)
    for name, value in changes.items():
        if value is not None:
            setattr(endpoint, name, value)
    await session.commit()
    return endpoint


async def remove(session: AsyncSession, endpoint_id: uuid.UUID) -> None:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise _not_found()
    await session.delete(endpoint)
    await session.commit()


async def endpoints(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[WebhookEndpoint], str | None]:
    e = WebhookEndpoint
    stmt = select(e).order_by(e.created_at.desc(), e.id.desc()).limit(limit + 1)
    if cursor:
        at, key = pagination.decode(cursor, tuple[pagination.Instant, uuid.UUID])
        stmt = stmt.where(tuple_(e.created_at, e.id) < tuple_(literal(at), literal(key)))
    rows = list((await session.execute(stmt)).scalars())
    return pagination.page(rows, limit, lambda x: (x.created_at, x.id))


async def deliveries(
    session: AsyncSession, endpoint_id: uuid.UUID, *, status: str | None, cursor: str | None, limit: int
) -> tuple[list[WebhookDelivery], str | None]:
    """An endpoint's delivery log, newest first."""
    if await session.get(WebhookEndpoint, endpoint_id) is None:
        raise _not_found()
    d = WebhookDelivery
    stmt = (
        select(d)
        .where(d.endpoint_id == endpoint_id)
        .order_by(d.created_at.desc(), d.id.desc())
        .limit(limit + 1)
    )
    if status:
        stmt = stmt.where(d.status == status)
    if cursor:
        at, key = pagination.decode(cursor, tuple[pagination.Instant, uuid.UUID])
        stmt = stmt.where(tuple_(d.created_at, d.id) < tuple_(literal(at), literal(key)))
    rows = list((await session.execute(stmt)).scalars())
    return pagination.page(rows, limit, lambda x: (x.created_at, x.id))


async def replay(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Send a delivery again (dead, delivered or skipped): the same message id, a fresh retry budget,
    the payload as first sent. Commits."""
    d = WebhookDelivery
    updated = (
        await session.execute(
            update(d)
            .where(d.id == delivery_id)
            .values(status="pending", attempts=0, next_attempt_at=datetime.now(UTC), lease_until=None)
            .returning(d.id)
        )
    ).first()
    if updated is None:
        raise NotFound(
            "No such delivery.", message_vi="Không có lần gửi webhook này.", code="webhook_delivery_not_found"
        )
    await session.commit()
    found = await session.get(WebhookDelivery, delivery_id, populate_existing=True)
    assert found is not None
    return found
