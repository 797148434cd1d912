"""A stand-in for `media.process.process_file` (same contract), for tests of the flow around it.

It decodes photos with Pillow in-process and writes metadata-free WebP renditions; videos get a copy
and a poster. The real decoder (separate process, limits) is tested in tests/media/test_process*.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from media.process import Processed, Rendition


def _gps(im: Any) -> list[float] | None:
    from PIL import ExifTags

    g = im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    if not g or 2 not in g or 4 not in g:
        return None

    def deg(v: Any) -> float:
        return float(v[0]) + float(v[1]) / 60 + float(v[2]) / 3600

    lat, lon = deg(g[2]), deg(g[4])
    return [lat if g.get(1, "N") == "N" else -lat, lon if g.get(3, "E") == "E" else -lon]


def fake_process_file(kind: str, src: Path, out_dir: Path, limits: Any) -> Processed:
    from PIL import Image, ImageOps

    if kind == "video":
        video = out_dir / "video.mp4"
        shutil.copyfile(src, video)
        poster = out_dir / "poster.jpg"
        Image.new("RGB", (16, 12), (1, 2, 3)).save(poster, "JPEG")
        return Processed(
            ok=True,
            renditions=[
                Rendition("video", video, "video/mp4", video.stat().st_size, 160, 120),
                Rendition("poster", poster, "image/jpeg", poster.stat().st_size, 16, 12),
            ],
            info={"width": 160, "height": 120, "duration_s": 1.0, "video_codec": "h264", "audio_codec": None},
        )
    try:
        with Image.open(src) as opened:
            gps = _gps(opened)
            im = ImageOps.exif_transpose(opened).convert("RGB")
            w, h = im.size
            out = []
            for name, px in (("thumb", 320), ("large", 1280)):
                copy = im.copy()
                copy.thumbnail((px, px))
                path = out_dir / f"{name}.webp"
                copy.save(path, "WEBP", quality=80)
                out.append(Rendition(name, path, "image/webp", path.stat().st_size, *copy.size))
    except OSError as exc:
        return Processed(ok=False, reason="truncated", message=str(exc))
    info: dict[str, Any] = {"width": w, "height": h, "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj"}
    if gps:
        info["gps"] = gps
        info["taken_at"] = "2026-11-20T08:30:00"
    return Processed(ok=True, renditions=out, info=info)
