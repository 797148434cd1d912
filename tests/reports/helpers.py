"""Residents and reports for the tracking tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def resident(client: httpx.AsyncClient, name: str = "r1") -> tuple[uuid.UUID, dict[str, str]]:
    """(user id, auth headers) of a freshly registered app install."""
    device = {
        "device_id": f"device-{name}-0001",
        "device_secret": "test-device-secret-0123456789abcdef",
        "platform": "android",
    }
    r = await client.post("/v1/auth/device", json=device)
    assert r.status_code == 200, r.text
    body = r.json()
    return uuid.UUID(body["user_id"]), {"Authorization": f"Bearer {body['access_token']}"}


async def set_state(
    db_conn: AsyncConnection, code: str, *, status: str, resolved_days_ago: float | None = None
) -> None:
    resolved_at = None
    if resolved_days_ago is not None:
        resolved_at = datetime.now(UTC) - timedelta(days=resolved_days_ago)
    await db_conn.execute(
        text("UPDATE reports SET status = :s, resolved_at = :ra WHERE code = :c"),
        {"s": status, "ra": resolved_at, "c": code},
    )
