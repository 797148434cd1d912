"""Decoding untrusted photos and videos, in a separate process with a time and memory limit.

The contract the rest of `media` relies on:

    result = process_file("photo" | "video", src, out_dir, limits)

reads the original at `src` (already sniffed as an accepted type), writes metadata-free renditions
into `out_dir` and returns a `Processed`: either ok with renditions and facts, or refused with a
machine `reason` and an English `message`. It never raises for a bad file; a crash, timeout or
memory blow-up of the child process becomes a refusal too.

Renditions: photos "thumb" (320 px) and "large" (1280 px); videos "video" (remuxed, metadata
stripped) and "poster" (a JPEG/WebP frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["photo", "video"]


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 40_000_000
    max_video_seconds: float = 120.0
    max_video_bytes: int = 200 * 1024 * 1024
    timeout_s: float = 120.0  # wall clock for the child process
    memory_mb: int = 1536  # address-space limit of the child process


@dataclass(frozen=True)
class Rendition:
    name: str  # "thumb" | "large" | "poster" | "video"
    path: Path
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Processed:
    ok: bool
    reason: str | None = None  # e.g. "decompression_bomb", "truncated", "too_long", "unsupported_codec"
    message: str | None = None  # English, names the limit hit where there is one
    renditions: list[Rendition] = field(default_factory=list)
    # width, height, blurhash, taken_at (ISO 8601 or None), gps ([lat, lon] or None),
    # and for videos duration_s, video_codec, audio_codec
    info: dict[str, Any] = field(default_factory=dict)
