"""A partner's `media_url`, fetched into the media pipeline like a resident's upload.

Only http(s); the host's every address must be public (no loopback, private, link-local or reserved
range: the server must not become a way into the city's own network) unless a setting allows it for
tests; redirects are not followed (a redirect could point anywhere); the body is read up to the photo
limit within a time limit; the bytes then take the same path as an upload (declare, store, complete),
so the worker checks, strips and blurs them like any other photo.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

import media
from api.core.net import UnsafeUrl, check_public
from api.core.settings import Settings
from api.open311.service import Open311Error

PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")
# a fetched photo goes to the store in one piece (larger objects would need a multipart upload)
MAX_FETCH_BYTES = 15 * 1024 * 1024


def _refused(why: str) -> Open311Error:
    return Open311Error(400, f"media_url could not be used: {why}.")


async def fetch_photo(
    session: AsyncSession, settings: Settings, cfg: media.MediaConfig, url: str, owner_id: uuid.UUID
) -> uuid.UUID:
    """The id of a completed upload holding the photo at `url`, owned by `owner_id`."""
    try:
        await check_public(url, allow_private=settings.open311_fetch_private)
    except UnsafeUrl as exc:
        raise _refused(str(exc)) from None
    limit = min(cfg.max_photo_bytes, MAX_FETCH_BYTES)
    with tempfile.TemporaryDirectory(prefix="phananh-fetch-") as tmp:
        path = Path(tmp) / "photo"
        try:
            async with (
                httpx.AsyncClient(timeout=settings.open311_fetch_timeout_s, follow_redirects=False) as client,
                client.stream("GET", url) as resp,
            ):
                if resp.status_code != 200:
                    raise _refused(f"it answered {resp.status_code}")
                content_type = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if content_type not in PHOTO_TYPES:
                    raise _refused(f"it is not a photo ({content_type or 'no content type'})")
                size = 0
                with path.open("wb") as out:
                    async with asyncio.timeout(settings.open311_fetch_timeout_s):
                        async for chunk in resp.aiter_bytes():
                            size += len(chunk)
                            if size > limit:
                                raise _refused(f"it is larger than {limit // (1024 * 1024)} MB")
                            out.write(chunk)
        except (httpx.HTTPError, TimeoutError):
            raise _refused("it could not be downloaded in time") from None
        if size == 0:
            raise _refused("it is empty")
        ticket = await media.declare(
            session, cfg, owner_id=owner_id, kind="photo", content_type=content_type, size=size
        )
        row = await session.get(media.Media, ticket.id)
        assert row is not None
        await cfg.storage.put_file(row.storage_key, path, content_type)
        await media.complete(session, cfg, media_id=ticket.id, owner_id=owner_id)
        return ticket.id
