"""Worker steps: process completed uploads (and make public renditions again where blur boxes changed);
remove uploads left unattached past their expiry."""

from __future__ import annotations

import logging

import media
from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings

log = logging.getLogger("phananh.media")


async def process_media(db: Database, settings: Settings) -> int:
    """One round of media processing (a few files: decoding is slow and CPU-bound), then one of
    rebuilding public renditions whose blur boxes changed."""
    cfg = config_for(settings)
    stats = await media.process_due(db.session, cfg, batch=2)
    if stats.claimed:
        log.info(
            "media processed: %d ready, %d rejected, %d to retry", stats.ready, stats.rejected, stats.failed
        )
    rebuilt = await media.rebuild_due(db.session, cfg, batch=2)
    if rebuilt.claimed:
        log.info("media blur rebuilt: %d done, %d to retry", rebuilt.ready, rebuilt.failed)
    return stats.done + rebuilt.ready


async def cleanup_media(db: Database, settings: Settings) -> int:
    """Remove one batch of stale uploads (objects, open multipart uploads, rows)."""
    return await media.cleanup_stale(db.session, config_for(settings))


__all__ = ["cleanup_media", "process_media"]
