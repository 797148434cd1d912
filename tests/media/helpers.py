"""The upload flow through HTTP, for the media tests."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx


async def declare(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    kind: str = "photo",
    content_type: str = "image/jpeg",
    sha256: bool = True,
    size: int | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "content_type": content_type, "size": size or len(data)}
    if sha256:
        body["sha256"] = hashlib.sha256(data).hexdigest()
    r = await client.post("/v1/uploads", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    kind: str = "photo",
    content_type: str = "image/jpeg",
) -> uuid.UUID:
    """Declare, PUT to the signed local URL, complete; the media id."""
    ticket = await declare(client, headers, data, kind=kind, content_type=content_type)
    r = await client.put(ticket["url"], content=data, headers=ticket["headers"])
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/uploads/{ticket['id']}/complete", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "processing"
    return uuid.UUID(ticket["id"])
