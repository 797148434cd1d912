"""Media through the upload flow the app offers (local storage): declare, PUT to the signed URL,
complete; and a small photo on a new report.

    pid = await upload(client, me.headers)                     # a small JPEG, now "processing"
    pid, code = await photo_report(client, me.headers, "W1")   # … attached to a new report in W1
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx

from tests.factories.reports import submit_report
from tests.media.files import jpeg


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
    """POST /v1/uploads for `data`; the 201 answer (the ticket: id, url, headers or fields)."""
    body: dict[str, Any] = {"kind": kind, "content_type": content_type, "size": size or len(data)}
    if sha256:
        body["sha256"] = hashlib.sha256(data).hexdigest()
    r = await client.post("/v1/uploads", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes | None = None,
    *,
    kind: str = "photo",
    content_type: str = "image/jpeg",
) -> uuid.UUID:
    """Declare, PUT to the signed local URL, complete; the media id (status "processing").
    Without `data`, a small JPEG."""
    data = jpeg() if data is None else data
    ticket = await declare(client, headers, data, kind=kind, content_type=content_type)
    r = await client.put(ticket["url"], content=data, headers=ticket["headers"])
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/uploads/{ticket['id']}/complete", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "processing"
    return uuid.UUID(ticket["id"])


async def photo_report(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ward: str = "W1",
    *,
    photo: bytes | None = None,
    category: str = "ngap-nuoc",
    description: str = "Ngập",
) -> tuple[uuid.UUID, str]:
    """A photo (`photo`, or a small JPEG) uploaded and attached to a new report in `ward` through
    POST /v1/reports: (media id, report code). The media worker has not run yet."""
    pid = await upload(client, headers, photo)
    body = await submit_report(
        client, headers, ward, category=category, description=description, media_ids=[pid]
    )
    return pid, str(body["code"])
