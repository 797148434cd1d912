"""The upload flow: declare → send the bytes → complete. Callable without HTTP.

- `declare` checks kind, type, size (naming the limit hit) and the caller's quotas, creates the row
  (`uploading`) and says how to send the bytes: a PUT to the API (local store), a presigned POST
  (S3), or presigned part URLs for a multipart upload (S3, large videos).
- `receive` (local store only) streams a request body to disk, refusing it as soon as it passes the
  declared size; a new PUT replaces what an earlier one left.
- `complete` checks the object is there, of the declared size and hash, and that its first bytes are
  what was declared; otherwise the object is deleted, the row marked `rejected` and a MediaError
  raised. Success moves the row to `processing` for the worker. A retry gives the same answer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from media.config import MediaConfig, MediaError
from media.models import Media
from media.sniff import DECLARED, HEAD_BYTES, kind_of, sniff
from media.storage import (
    MULTIPART_THRESHOLD,
    PART_SIZE,
    LocalStorage,
    S3Storage,
    StorageError,
    TooLarge,
    new_key,
)
from media.texts import PLAIN

Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
KINDS = ("photo", "video")
# refusals decided at completion: a retry of `complete` repeats them
COMPLETION_REASONS = ("size_mismatch", "hash_mismatch", "type_mismatch", "unrecognised_type")


@dataclass
class PartUrl:
    part_number: int
    url: str
    offset: int
    size: int


@dataclass
class Ticket:
    """How the client sends the bytes of one upload."""

    id: uuid.UUID
    method: str  # PUT | POST
    url: str
    expires_at: datetime
    headers: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    parts: list[PartUrl] = field(default_factory=list)  # multipart: PUT each part to its url
    part_size: int | None = None
    complete_url: str = ""


def _limit_error(kind: str, size: int, cfg: MediaConfig) -> MediaError | None:
    limit = cfg.max_photo_bytes if kind == "photo" else cfg.max_video_bytes
    setting = "PHANANH_MAX_PHOTO_BYTES" if kind == "photo" else "PHANANH_MAX_VIDEO_BYTES"
    if size <= limit:
        return None
    mb = limit / (1024 * 1024)
    what_en, what_vi = ("photo", "ảnh") if kind == "photo" else ("video", "video")
    return MediaError(
        "file_too_large",
        f"This {what_en} is {size} bytes; the limit is {limit} bytes ({mb:.0f} MB).",
        f"Tệp {what_vi} quá lớn ({size} byte); giới hạn là {limit} byte ({mb:.0f} MB).",
        {"limit": setting, "max_bytes": limit, "size": size},
        status=413,
    )


def normalise_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


async def declare(
    session: AsyncSession,
    cfg: MediaConfig,
    *,
    owner_id: uuid.UUID,
    kind: str,
    content_type: str,
    size: int,
    sha256: str | None = None,
    api_base_url: str = "",
) -> Ticket:
    """Create an upload and say how to send its bytes. Commits."""
    if kind not in KINDS:
        raise MediaError(
            "invalid_kind",
            "kind must be 'photo' or 'video'.",
            "kind phải là 'photo' hoặc 'video'.",
            status=400,
        )
    ct = normalise_type(content_type)
    real = DECLARED.get(ct)
    if real is None:
        raise MediaError(
            "unsupported_type",
            f"Content type {ct!r} is not accepted (photos: JPEG, PNG, WebP, HEIC; videos: MP4, MOV, 3GP).",
            f"Không hỗ trợ kiểu tệp {ct!r} (ảnh: JPEG, PNG, WebP, HEIC; video: MP4, MOV, 3GP).",
            {"accepted": sorted(DECLARED)},
            status=415,
        )
    if kind_of(real) != kind:
        raise MediaError(
            "type_kind_mismatch",
            f"{ct} is not a {kind}.",
            f"Kiểu tệp {ct} không phải {'ảnh' if kind == 'photo' else 'video'}.",
            {"kind": kind, "content_type": ct},
        )
    if size <= 0:
        raise MediaError("invalid_size", "size must be positive.", "Kích thước tệp không hợp lệ.", status=400)
    too_large = _limit_error(kind, size, cfg)
    if too_large is not None:
        raise too_large
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not _SHA256.match(sha256):
            raise MediaError(
                "invalid_sha256",
                "sha256 must be 64 hexadecimal characters.",
                "sha256 phải gồm 64 ký tự thập lục phân.",
                status=400,
            )
    now = datetime.now(UTC)
    await _check_quota(session, cfg, owner_id, now)

    media_id = uuid.uuid4()
    key = new_key("o")
    expires_at = now + timedelta(seconds=cfg.upload_ttl_s)
    row = Media(
        id=media_id,
        owner_id=owner_id,
        kind=kind,
        content_type=real,
        size=size,
        sha256=sha256,
        storage_key=key,
        status="uploading",
        expires_at=expires_at,
        created_at=now,
        info={},
        private={},
        renditions={},
    )
    storage = cfg.storage
    complete_url = f"{api_base_url.rstrip('/')}/v1/uploads/{media_id}/complete"
    if isinstance(storage, LocalStorage):
        url, exp = storage.upload_url(str(media_id), cfg.upload_ttl_s)
        ticket = Ticket(
            media_id,
            "PUT",
            url,
            datetime.fromtimestamp(exp, UTC),
            headers={"Content-Type": real},
            complete_url=complete_url,
        )
    elif isinstance(storage, S3Storage):
        if size > MULTIPART_THRESHOLD:
            part_size = max(PART_SIZE, -(-size // 10_000))
            upload_id = await storage.create_multipart(key, real)
            row.multipart_upload_id, row.part_size = upload_id, part_size
            parts = storage.part_urls(key, upload_id, size, part_size, cfg.upload_ttl_s)
            ticket = Ticket(
                media_id,
                "PUT",
                parts[0].url,
                expires_at,
                parts=[PartUrl(p.number, p.url, p.offset, p.size) for p in parts],
                part_size=part_size,
                complete_url=complete_url,
            )
        else:
            post = storage.presign_post(key, real, size, cfg.upload_ttl_s)
            ticket = Ticket(
                media_id, "POST", post.url, expires_at, fields=post.fields, complete_url=complete_url
            )
    else:  # pragma: no cover - only the two stores exist
        raise RuntimeError(f"unknown storage {storage!r}")
    session.add(row)
    await session.commit()
    return ticket


async def _check_quota(session: AsyncSession, cfg: MediaConfig, owner_id: uuid.UUID, now: datetime) -> None:
    pending = await session.scalar(
        select(func.count())
        .select_from(Media)
        .where(Media.owner_id == owner_id, Media.status == "uploading", Media.expires_at > now)
    )
    if (pending or 0) >= cfg.max_pending_uploads:
        raise MediaError(
            "too_many_pending_uploads",
            f"You have {pending} unfinished uploads; finish or wait for them to expire.",
            f"Bạn có {pending} tệp đang tải lên chưa hoàn tất; hãy hoàn tất hoặc chờ chúng hết hạn.",
            {"limit": cfg.max_pending_uploads},
            status=429,
            headers={"Retry-After": "60"},
        )
    hour_ago = now - timedelta(hours=1)
    recent = await session.scalar(
        select(func.count()).select_from(Media).where(Media.owner_id == owner_id, Media.created_at > hour_ago)
    )
    if (recent or 0) >= cfg.max_uploads_per_hour:
        raise MediaError(
            "upload_rate_limited",
            f"Too many uploads in the last hour (limit {cfg.max_uploads_per_hour}); try again later.",
            f"Quá nhiều tệp tải lên trong một giờ (tối đa {cfg.max_uploads_per_hour}); vui lòng thử lại sau.",
            {"limit": cfg.max_uploads_per_hour, "window_s": 3600},
            status=429,
            headers={"Retry-After": "600"},
        )


def not_found(media_id: uuid.UUID | str) -> MediaError:
    return MediaError(
        "media_not_found",
        f"No upload or media with id {media_id}.",
        f"Không tìm thấy tệp {media_id}.",
        status=404,
    )


async def receive(
    sessions: Sessions,
    cfg: MediaConfig,
    media_id: uuid.UUID,
    chunks: AsyncIterable[bytes],
    *,
    owner_id: uuid.UUID | None = None,
) -> int:
    """Stream a body into a local-store upload; returns the bytes received.

    `owner_id`, when given, must be the uploader's (Bearer-authenticated PUT); a signed-URL PUT
    passes None. No database connection is held while the bytes flow.
    """
    storage = cfg.storage
    if not isinstance(storage, LocalStorage):
        raise MediaError(
            "direct_upload_only",
            "This server takes uploads straight to the object store; use the URL from POST /v1/uploads.",
            "Máy chủ nhận tệp trực tiếp qua kho lưu trữ; hãy dùng địa chỉ từ POST /v1/uploads.",
            status=409,
        )
    async with sessions() as s:
        row = await s.get(Media, media_id)
        if row is None or (owner_id is not None and row.owner_id != owner_id):
            raise not_found(media_id)
        if row.status != "uploading":
            raise MediaError(
                "upload_already_completed",
                "This upload was already completed.",
                "Tệp này đã được hoàn tất tải lên.",
                {"status": row.status},
                status=409,
            )
        if row.expires_at <= datetime.now(UTC):
            raise _expired(media_id)
        key, declared = row.storage_key, row.size
    try:
        size, digest = await storage.write_stream(key, chunks, declared)
    except TooLarge:
        raise MediaError(
            "body_too_large",
            f"The body is larger than the declared size ({declared} bytes).",
            f"Dữ liệu gửi lên lớn hơn kích thước đã khai báo ({declared} byte).",
            {"declared_size": declared},
            status=413,
        ) from None
    async with sessions() as s:
        row = await s.get(Media, media_id, with_for_update=True)
        if row is None or row.status != "uploading":  # removed or completed meanwhile
            if row is None:
                await storage.delete(key)
            raise (
                not_found(media_id)
                if row is None
                else MediaError(
                    "upload_already_completed",
                    "This upload was already completed.",
                    "Tệp này đã được hoàn tất tải lên.",
                    status=409,
                )
            )
        row.received_size, row.received_sha256 = size, digest
        await s.commit()
    return size


def _expired(media_id: uuid.UUID) -> MediaError:
    return MediaError(
        "upload_expired",
        "This upload expired; declare it again.",
        "Phiên tải lên đã hết hạn; vui lòng khai báo lại.",
        {"id": str(media_id)},
        status=410,
    )


# the completion checks' refusals and their HTTP status; the texts are media/texts.py's
_REFUSALS: dict[str, int] = {
    "size_mismatch": 422,
    "hash_mismatch": 422,
    "type_mismatch": 422,
    "unrecognised_type": 415,
}


def refusal(reason: str, details: Any = None) -> MediaError:
    en, vi = PLAIN[reason]
    return MediaError(reason, en, vi, details, status=_REFUSALS[reason])


@dataclass(frozen=True)
class Completed:
    media_id: uuid.UUID
    status: str


def _compatible(declared: str, sniffed: str) -> bool:
    """Photos must be exactly what was declared; MP4/MOV/3GP are one family (phones mislabel them)."""
    if declared == sniffed:
        return True
    return kind_of(declared) == "video" and kind_of(sniffed) == "video"


async def complete(
    session: AsyncSession,
    cfg: MediaConfig,
    *,
    media_id: uuid.UUID,
    owner_id: uuid.UUID,
    parts: Sequence[tuple[int, str]] | None = None,
) -> Completed:
    """Check the received object and hand it to the worker. Commits; raises MediaError on refusal."""
    row = await session.get(Media, media_id, with_for_update=True)
    if row is None or row.owner_id != owner_id:
        raise not_found(media_id)
    if row.status != "uploading":
        if row.status == "rejected" and row.reason in COMPLETION_REASONS:
            raise refusal(row.reason, {"id": str(media_id)})
        return Completed(row.id, row.status)
    if row.expires_at <= datetime.now(UTC):
        raise _expired(media_id)
    storage = cfg.storage
    if row.multipart_upload_id and isinstance(storage, S3Storage):
        if not parts:
            raise MediaError(
                "parts_required",
                "A multipart upload is completed with the ETag of every part.",
                "Cần gửi ETag của từng phần để hoàn tất tải lên.",
                {"parts": [{"part_number": "int", "etag": "str"}]},
                status=400,
            )
        try:
            await storage.complete_multipart(row.storage_key, row.multipart_upload_id, sorted(parts))
        except StorageError as exc:
            raise MediaError(
                "multipart_incomplete",
                f"The store refused to assemble the parts ({exc}).",
                f"Kho lưu trữ không ghép được các phần ({exc}).",
                {"store_error": str(exc)},
                status=409,
            ) from None
        row.multipart_upload_id = None
    size = await storage.stat(row.storage_key)
    if size is None:
        raise MediaError(
            "not_uploaded",
            "No bytes were received for this upload yet.",
            "Chưa nhận được dữ liệu của tệp này.",
            status=409,
        )
    reason: str | None = None
    details: dict[str, Any] = {"id": str(media_id)}
    if size != row.size:
        reason, details = "size_mismatch", {**details, "declared_size": row.size, "received_size": size}
    else:
        head = await storage.read_head(row.storage_key, HEAD_BYTES)
        sniffed = sniff(head)
        row.sniffed_type = sniffed
        if sniffed is None:
            reason = "unrecognised_type"
        elif not _compatible(row.content_type, sniffed):
            reason, details = "type_mismatch", {**details, "declared": row.content_type, "detected": sniffed}
        elif row.sha256:
            if isinstance(storage, LocalStorage) and row.received_sha256 and row.received_size == size:
                digest = row.received_sha256
            else:
                digest = await storage.sha256(row.storage_key)
            if digest != row.sha256:
                reason = "hash_mismatch"
    now = datetime.now(UTC)
    if reason is not None:
        await storage.delete(row.storage_key)
        en, _vi = PLAIN[reason]
        row.status, row.reason, row.message, row.completed_at = "rejected", reason, en, now
        await session.commit()
        raise refusal(reason, details)
    row.status, row.completed_at = "processing", now
    await session.commit()
    return Completed(row.id, row.status)


__all__ = [
    "Completed",
    "PartUrl",
    "Sessions",
    "Ticket",
    "complete",
    "declare",
    "normalise_type",
    "not_found",
    "receive",
    "refusal",
]
