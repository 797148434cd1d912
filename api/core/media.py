"""The media capability configured from settings (one store object per settings)."""

from __future__ import annotations

import functools

import media
from api.core.settings import Settings


@functools.lru_cache(maxsize=16)
def config_for(settings: Settings) -> media.MediaConfig:
    """The media capability's configuration for these settings (one store object per settings)."""
    store: media.Storage
    if settings.s3_bucket:
        store = media.S3Storage(
            media.S3Config(
                bucket=settings.s3_bucket,
                endpoint_url=settings.s3_endpoint_url,
                region=settings.s3_region,
                access_key_id=settings.s3_access_key_id,
                secret_access_key=settings.s3_secret_access_key,
            )
        )
    else:
        store = media.LocalStorage(settings.media_dir, secret=settings.jwt_secret, base_url=settings.base_url)
    return media.MediaConfig(
        storage=store,
        max_photo_bytes=settings.max_photo_bytes,
        max_video_bytes=settings.max_video_bytes,
        max_photos_per_report=settings.max_photos_per_report,
        max_videos_per_report=settings.max_videos_per_report,
        max_video_seconds=settings.max_video_seconds,
        max_image_pixels=settings.max_image_pixels,
        url_ttl_s=settings.media_url_ttl_s,
        upload_ttl_s=settings.upload_ttl_s,
        far_from_report_m=settings.media_far_from_report_m,
        max_pending_uploads=settings.max_pending_uploads,
        max_uploads_per_hour=settings.max_uploads_per_hour,
    )


__all__ = ["config_for"]
