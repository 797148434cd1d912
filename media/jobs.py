"""Background work on media: processing completed uploads, and removing stale ones.

Processing (`process_due`): claim completed uploads (`processing`) with `FOR UPDATE SKIP LOCKED`,
setting a lease and counting the attempt; fetch each original into a temporary folder; decode it in
a separate process (`media.process.process_file`, run in a thread); upload the renditions; then mark
the row `ready` (public facts in `info`, EXIF GPS and time in `private`) or `rejected` with the
decoder's reason. The **original is deleted** once processed either way: only the metadata-free
renditions are kept and served. A worker that dies mid-way leaves the row claimed until the lease runs
out; after `max_attempts` claims it is rejected (`processing_failed`).

Cleanup (`cleanup_stale`): uploads not attached to a report by their `expires_at` (declared time +
`upload_ttl_s`) are removed: open S3 multipart uploads aborted, objects deleted, rows deleted.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from media import sql
from media.attach import update_distances
from media.config import MediaConfig
from media.models import Media
from media.process import Limits, process_file
from media.storage import EXTENSIONS, S3Storage
from media.uploads import Sessions

log = logging.getLogger("phananh.media")

PRIVATE_INFO = ("gps", "taken_at")


@dataclass
class ProcessStats:
    claimed: int = 0
    ready: int = 0
    rejected: int = 0
    failed: int = 0  # errors left for a later attempt

    @property
    def done(self) -> int:
        return self.ready + self.rejected


def limits_for(cfg: MediaConfig) -> Limits:
    return Limits(
        max_pixels=cfg.max_image_pixels,
        max_video_seconds=cfg.max_video_seconds,
        max_video_bytes=cfg.max_video_bytes,
    )


_process_file = process_file  # the seam tests use to inject a failure after decoding


async def process_due(
    sessions: Sessions,
    cfg: MediaConfig,
    *,
    batch: int = 4,
    lease_s: float = 600.0,
    max_attempts: int = 3,
    limits: Any = None,
) -> ProcessStats:
    """One round of processing. Safe with any number of workers."""
    stats = ProcessStats()
    claim = uuid.uuid4()
    async with sessions() as s:
        rows = list(await s.execute(sql.CLAIM, {"claim": claim, "lease": lease_s, "n": batch}))
        await s.commit()
    stats.claimed = len(rows)
    limits = limits if limits is not None else limits_for(cfg)
    for row in rows:
        if row.attempts > max_attempts:
            await _finish(
                sessions,
                cfg,
                row,
                claim,
                status="rejected",
                reason="processing_failed",
                message=f"Processing failed {max_attempts} times.",
            )
            stats.rejected += 1
            continue
        try:
            ok = await _process_one(sessions, cfg, row, claim, limits)
        except Exception:
            log.exception("media %s: processing failed (attempt %d)", row.id, row.attempts)
            stats.failed += 1
            continue
        if ok:
            stats.ready += 1
        else:
            stats.rejected += 1
    return stats


async def _process_one(sessions: Sessions, cfg: MediaConfig, row: Any, claim: uuid.UUID, limits: Any) -> bool:
    storage = cfg.storage
    with tempfile.TemporaryDirectory(prefix="phananh-media-") as tmp:
        src = Path(tmp) / "original"
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        await storage.fetch_to(row.storage_key, src)
        result = await asyncio.to_thread(_process_file, row.kind, src, out_dir, limits)
        if not result.ok:
            await _finish(
                sessions,
                cfg,
                row,
                claim,
                status="rejected",
                reason=result.reason or "unprocessable",
                message=result.message or "The file could not be processed.",
            )
            return False
        token = secrets.token_urlsafe(24)
        renditions: dict[str, dict[str, Any]] = {}
        for r in result.renditions:
            ext = EXTENSIONS.get(r.content_type, "bin")
            key = f"r/{token}/{r.name}.{ext}"
            await storage.put_file(key, r.path, r.content_type)
            renditions[r.name] = {
                "key": key,
                "content_type": r.content_type,
                "size": r.size,
                "width": r.width,
                "height": r.height,
            }
    info = {k: v for k, v in result.info.items() if k not in PRIVATE_INFO}
    private = {k: result.info.get(k) for k in PRIVATE_INFO if result.info.get(k) is not None}
    kept = await _finish(
        sessions, cfg, row, claim, status="ready", info=info, private=private, renditions=renditions
    )
    if not kept:  # someone else finished it (lease ran out): drop what we uploaded
        for stored in renditions.values():
            await storage.delete(stored["key"])
    return True


async def _finish(
    sessions: Sessions,
    cfg: MediaConfig,
    row: Any,
    claim: uuid.UUID,
    *,
    status: str,
    reason: str | None = None,
    message: str | None = None,
    info: dict[str, Any] | None = None,
    private: dict[str, Any] | None = None,
    renditions: dict[str, Any] | None = None,
) -> bool:
    """Record the outcome, only if the row still carries our claim; then delete the original."""
    import json

    async with sessions() as s:
        done = await s.scalar(
            sql.RECORD_OUTCOME,
            {
                "status": status,
                "reason": reason,
                "message": message,
                "info": json.dumps(info or {}),
                "private": json.dumps(private or {}),
                "renditions": json.dumps(renditions or {}),
                "now": datetime.now(UTC),
                "id": row.id,
                "claim": claim,
            },
        )
        if done is not None and private and private.get("gps"):
            await update_distances(s, [row.id], cfg.far_from_report_m)
        await s.commit()
    if done is not None:
        await cfg.storage.delete(row.storage_key)
    return done is not None


async def cleanup_stale(sessions: Sessions, cfg: MediaConfig, *, batch: int = 100) -> int:
    """Remove one batch of uploads that expired unattached (objects first, then rows)."""
    storage = cfg.storage
    async with sessions() as s:
        rows = list(await s.execute(sql.STALE, {"n": batch}))
        if not rows:
            return 0
        for r in rows:
            if r.multipart_upload_id and isinstance(storage, S3Storage):
                await storage.abort_multipart(r.storage_key, r.multipart_upload_id)
            await storage.delete(r.storage_key)
            for rendition in (r.renditions or {}).values():
                await storage.delete(rendition["key"])
        await s.execute(
            delete(Media)
            .where(Media.id.in_([r.id for r in rows]))
            .execution_options(synchronize_session=False)
        )
        await s.commit()
    log.info("media cleanup: removed %d stale uploads", len(rows))
    return len(rows)


__all__ = ["ProcessStats", "cleanup_stale", "limits_for", "process_due"]
