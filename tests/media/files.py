"""Real photo and video files generated in the tests (Pillow, PyAV)."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path


def _gps_exif(lat: float, lon: float) -> bytes:
    from PIL import Image

    def dms(v: float) -> tuple[Fraction, Fraction, Fraction]:
        v = abs(v)
        d = int(v)
        m = int((v - d) * 60)
        s = round(((v - d) * 60 - m) * 60 * 100)
        return (Fraction(d, 1), Fraction(m, 1), Fraction(s, 100))

    exif = Image.Exif()
    gps = {
        1: "N" if lat >= 0 else "S",
        2: dms(lat),
        3: "E" if lon >= 0 else "W",
        4: dms(lon),
    }
    exif[0x8825] = gps  # GPSInfo IFD
    exif[0x0132] = "2026:11:20 08:30:00"  # DateTime
    exif[0x010F] = "TestPhone"  # Make
    return exif.tobytes()


def jpeg(w: int = 640, h: int = 480, *, gps: tuple[float, float] | None = None, quality: int = 85) -> bytes:
    from PIL import Image

    im = Image.new("RGB", (w, h))
    # a gradient, so the encoder has something to do and a blurhash something to show
    px = im.load()
    assert px is not None
    for x in range(0, w, 8):
        for y in range(0, h, 8):
            c = (x * 255 // max(w, 1), y * 255 // max(h, 1), 128)
            for dx in range(min(8, w - x)):
                for dy in range(min(8, h - y)):
                    px[x + dx, y + dy] = c
    buf = io.BytesIO()
    kw = {"exif": _gps_exif(*gps)} if gps else {}
    im.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def png(w: int = 320, h: int = 200) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (20, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def mp4(seconds: float = 1.0, *, w: int = 160, h: int = 120, fps: int = 10) -> bytes:
    """A short H.264 clip in MP4, made with PyAV."""
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(max(1, int(seconds * fps))):
            arr = np.full((h, w, 3), (i * 10) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
