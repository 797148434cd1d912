"""The media settings a process runs with, and the error every media rule raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from media.storage import Storage


class MediaError(Exception):
    """A media rule refused something (unknown, not yours, rejected, already used, over a limit…).

    `status` is the HTTP status the API answers with (422 unless said otherwise); `headers` extra
    response headers (Retry-After).
    """

    def __init__(
        self,
        code: str,
        message: str,
        message_vi: str,
        details: Any = None,
        *,
        status: int = 422,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.message_vi, self.details = code, message, message_vi, details
        self.status = status
        self.headers = headers or {}


@dataclass(frozen=True)
class MediaConfig:
    """Everything the media rules need, passed in by the app (capabilities never read its settings)."""

    storage: Storage
    max_photo_bytes: int = 25 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    max_photos_per_report: int = 5
    max_videos_per_report: int = 1
    max_video_seconds: float = 120.0
    max_image_pixels: int = 40_000_000
    url_ttl_s: int = 3600  # signed read links
    upload_ttl_s: int = 24 * 3600  # upload links; unattached uploads are removed after this
    far_from_report_m: float = 500.0  # a photo's EXIF position farther than this from the report is flagged
    max_pending_uploads: int = 20  # per user: declared but not completed
    max_uploads_per_hour: int = 120  # per user


_current: MediaConfig | None = None


def configure(config: MediaConfig) -> None:
    """Set this process's media configuration (the app does it at start-up)."""
    global _current
    _current = config


def current() -> MediaConfig:
    if _current is None:
        raise RuntimeError("media is not configured: call media.configure(MediaConfig(...)) first")
    return _current


def configured() -> MediaConfig | None:
    return _current
