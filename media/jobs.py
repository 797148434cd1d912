"""Background work on media: processing completed uploads, and removing stale ones.

Processing (`process_due`): claim completed uploads (`processing`) with `FOR UPDATE SKIP LOCKED`,
setting a lease and counting the attempt; fetch each original into a temporary folder; decode it in
a separate process (`media.process.process_file`, run in a thread); upload the renditions; then mark
the row `ready` (public facts in `info`, EXIF GPS and time in `private`) or `rejected` with the
decoder's reason. The **original is deleted** once processed either way: only the metadata-free
renditions are kept and served. A worker that dies mid-way leaves the row claimed until the lease runs
out; after `max_attempts` claims it is rejected (`processing_failed`).

Faces and plates (`rebuild_due`): when a moderator changes what a photo hides, or for photos processed
before blurring existed, the public renditions are made again from the staff copy ("large_original",
"poster_original"; the original is gone) in the same sandbox, uploaded under new keys, and the
replaced objects deleted. Processing and rebuilding both record near perceptual hashes afterwards
(`media.blur.record_matches`).

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
from media.blur import record_matches
from media.config import MediaConfig
from media.models import Media
from media.process import STAFF_RENDITIONS, Limits, Processed, process_file, rebuild_file
from media.storage import EXTENSIONS, S3Storage
from media.uploads import Sessions

log = logging.getLogger("phananh.media")

PRIVATE_INFO = ("gps", "taken_at")
BLUR_INFO = ("blur_boxes", "phash")  # kept in their own columns, never in the shown `info`


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
_rebuild_file = rebuild_file


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
                info={"refusal": {"attempts": max_attempts}},
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
                info={"refusal": result.params},
            )
            return False
        renditions = await _upload(cfg, result)
    info = {k: v for k, v in result.info.items() if k not in PRIVATE_INFO + BLUR_INFO}
    private = {k: result.info.get(k) for k in PRIVATE_INFO if result.info.get(k) is not None}
    kept = await _finish(
        sessions,
        cfg,
        row,
        claim,
        status="ready",
        info=info,
        private=private,
        renditions=renditions,
        blur_boxes=result.info.get("blur_boxes", []),
        phash=result.info.get("phash"),
    )
    if not kept:  # someone else finished it (lease ran out): drop what we uploaded
        for stored in renditions.values():
            await storage.delete(stored["key"])
    else:
        await _record_matches(sessions, row.id, result.info.get("phash"))
    return True


# a file to store beside the renditions: (path, content type, width, height)
Extra = tuple[Path, str, int | None, int | None]


async def _upload(
    cfg: MediaConfig, result: Processed, extra: dict[str, Extra] | None = None
) -> dict[str, Any]:
    """Upload the renditions (and `extra` files, by rendition name) under a fresh random folder."""
    token = secrets.token_urlsafe(24)
    renditions: dict[str, dict[str, Any]] = {}
    files = [(r.name, r.path, r.content_type, r.size, r.width, r.height) for r in result.renditions]
    files += [(name, path, ct, path.stat().st_size, w, h) for name, (path, ct, w, h) in (extra or {}).items()]
    for name, path, content_type, size, width, height in files:
        key = f"r/{token}/{name}.{EXTENSIONS.get(content_type, 'bin')}"
        await cfg.storage.put_file(key, path, content_type)
        renditions[name] = {
            "key": key,
            "content_type": content_type,
            "size": size,
            "width": width,
            "height": height,
        }
    return renditions


async def _record_matches(sessions: Sessions, media_id: uuid.UUID, phash: int | None) -> None:
    try:
        async with sessions() as s:
            await record_matches(s, media_id, phash)
            await s.commit()
    except Exception:  # the photo is processed; a missing "same photo" flag must not undo that
        log.exception("media %s: recording perceptual-hash matches failed", media_id)


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
    blur_boxes: list[dict[str, Any]] | None = None,
    phash: int | None = None,
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
                "blur_boxes": None if blur_boxes is None else json.dumps(blur_boxes),
                "phash": phash,
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


async def rebuild_due(
    sessions: Sessions, cfg: MediaConfig, *, batch: int = 4, lease_s: float = 600.0, limits: Any = None
) -> ProcessStats:
    """One round of rebuilding public renditions (new blur boxes, or legacy photos). Safe with any
    number of workers; a failure is left for the lease to run out and is tried again."""
    stats = ProcessStats()
    claim = uuid.uuid4()
    async with sessions() as s:
        rows = list(await s.execute(sql.CLAIM_REBUILD, {"claim": claim, "lease": lease_s, "n": batch}))
        await s.commit()
    stats.claimed = len(rows)
    limits = limits if limits is not None else limits_for(cfg)
    for row in rows:
        try:
            ok = await _rebuild_one(sessions, cfg, row, claim, limits)
        except Exception:
            log.exception("media %s: rebuilding the public renditions failed", row.id)
            stats.failed += 1
            continue
        if ok:
            stats.ready += 1
        else:
            stats.failed += 1
    return stats


async def _rebuild_one(sessions: Sessions, cfg: MediaConfig, row: Any, claim: uuid.UUID, limits: Any) -> bool:
    import json

    storage = cfg.storage
    old: dict[str, Any] = dict(row.renditions or {})
    staff_name = next((n for n in STAFF_RENDITIONS if n in old), None)
    public_name = STAFF_RENDITIONS.get(staff_name or "") or next(
        (p for p in STAFF_RENDITIONS.values() if p in old), None
    )
    if public_name is None:  # no picture at all (never expected of a ready photo): nothing to hide
        log.error("media %s: no picture to blur (renditions %s)", row.id, sorted(old))
        async with sessions() as s:
            await s.execute(sql.GIVE_UP_REBUILD, {"id": row.id, "claim": claim})
            await s.commit()
        return False
    source = old[staff_name or public_name]  # legacy: the unblurred public one becomes the staff copy
    boxes = None if row.blur_boxes is None else [b["box"] for b in row.blur_boxes]
    with tempfile.TemporaryDirectory(prefix="phananh-media-") as tmp:
        src = Path(tmp) / "source"
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        await storage.fetch_to(source["key"], src)
        result = await asyncio.to_thread(_rebuild_file, row.kind, src, out_dir, boxes, limits)
        if not result.ok:
            log.error("media %s: rebuild refused: %s %s", row.id, result.reason, result.message)
            return False
        extra: dict[str, Extra] = {}
        if staff_name is None:  # copy it under a new key: links to the old public one must die
            staff_name = next(n for n, p in STAFF_RENDITIONS.items() if p == public_name)
            extra[staff_name] = (src, source["content_type"], source.get("width"), source.get("height"))
        made = await _upload(cfg, result, extra)
    renditions = {**old, **made}
    info = {k: v for k, v in result.info.items() if k not in BLUR_INFO}
    async with sessions() as s:
        done = await s.scalar(
            sql.FINISH_REBUILD,
            {
                "renditions": json.dumps(renditions),
                "info": json.dumps(info),
                "detected": json.dumps(result.info.get("blur_boxes", [])),
                "phash": result.info.get("phash"),
                "seen": row.blur_requested_at,
                "id": row.id,
                "claim": claim,
            },
        )
        await s.commit()
    replaced = made if done is None else {n: old[n] for n in made if n in old}
    for stored in replaced.values():  # ours if we lost the claim; else the ones we replaced
        await storage.delete(stored["key"])
    if done is not None:
        await _record_matches(sessions, row.id, result.info.get("phash"))
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


__all__ = ["ProcessStats", "cleanup_stale", "limits_for", "process_due", "rebuild_due"]
