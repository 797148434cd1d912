"""Photos and videos: uploads, checks, processing, storage (local folder or S3).

The public face:

- `configure(MediaConfig(storage=…, limits…))`: the process's settings (the app calls it at start-up;
  capabilities never read the app's settings).
- `attach_to_report(session, media_ids=…, owner_id=…, report_id=…, event_id=None)`: the report
  lifecycle attaches completed uploads; raises `MediaError` (code, English and Vietnamese text).
- `list_for_report(session, report_id, base_url=…)`: a report's media as the API shows them.
- `erase_personal_data(session, report_ids, owners=…)`: when a report's personal data goes, its media
  keep only their public renditions (originals, staff-only copies, EXIF position and time erased).
- `list_for_report(session, report_id, base_url=…)`: a report's media as the API shows them (the public
  only ever gets renditions with faces and plates hidden; staff also the unblurred copies).
- `set_blur_boxes(session, media, boxes)`: a moderator's boxes; the worker's `rebuild_due` makes the
  public renditions again. `same_as`: other reports on which the same picture was seen.
- The upload flow (`declare`, `receive`, `complete`) and views (`render`) in `media.uploads` /
  `media.attach`; background work (`process_due`, `cleanup_stale`) in `media.jobs`; stores
  (`LocalStorage`, `S3Storage`) in `media.storage`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from media.attach import attach_to_report, list_for_report, render
    from media.blur import MAX_PHASH_DISTANCE, blurrable, same_as, set_blur_boxes
    from media.config import MediaConfig, MediaError, configure, configured, current
    from media.erase import erase_personal_data
    from media.jobs import ProcessStats, cleanup_stale, process_due, rebuild_due
    from media.models import Media
    from media.storage import LocalStorage, S3Config, S3Storage, Storage, StorageError
    from media.uploads import Completed, Ticket, complete, declare, receive

# Imported on first use, so that the sandboxed decoder (`media.process.child`, one process per
# file) starts without SQLAlchemy and boto3: that saves most of a second per photo.
_HOME = {
    **dict.fromkeys(("attach_to_report", "list_for_report", "render"), "media.attach"),
    **dict.fromkeys(("MediaConfig", "MediaError", "configure", "configured", "current"), "media.config"),
    "erase_personal_data": "media.erase",
    **dict.fromkeys(("MAX_PHASH_DISTANCE", "blurrable", "same_as", "set_blur_boxes"), "media.blur"),
    **dict.fromkeys(("ProcessStats", "cleanup_stale", "process_due", "rebuild_due"), "media.jobs"),
    "Media": "media.models",
    **dict.fromkeys(("LocalStorage", "S3Config", "S3Storage", "Storage", "StorageError"), "media.storage"),
    **dict.fromkeys(("Completed", "Ticket", "complete", "declare", "receive"), "media.uploads"),
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'media' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "MAX_PHASH_DISTANCE",
    "Completed",
    "LocalStorage",
    "Media",
    "MediaConfig",
    "MediaError",
    "ProcessStats",
    "S3Config",
    "S3Storage",
    "Storage",
    "StorageError",
    "Ticket",
    "attach_to_report",
    "blurrable",
    "cleanup_stale",
    "complete",
    "configure",
    "configured",
    "current",
    "declare",
    "erase_personal_data",
    "list_for_report",
    "process_due",
    "rebuild_due",
    "receive",
    "render",
    "same_as",
    "set_blur_boxes",
]
