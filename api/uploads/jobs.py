"""Worker steps: process completed uploads; remove uploads left unattached past their expiry."""

from __future__ import annotations

import logging

import media
from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings

log = logging.getLogger("phananh.media")


async def process_media(db: Database, settings: Settings) -> int:
    """One round of media processing (a few files: decoding is slow and CPU-bound)."""
    stats = await media.process_due(db.session, config_for(settings), batch=2)
    if stats.claimed:
        log.info(
            "media processed: %d ready, %d rejected, %d to retry", stats.ready, stats.rejected, stats.failed
        )
    return stats.done


async def cleanup_media(db: Database, settings: Settings) -> int:
    """Remove one batch of stale uploads (objects, open multipart uploads, rows)."""
    return await media.cleanup_stale(db.session, config_for(settings))


__all__ = ["cleanup_media", "process_media"]
