"""Real photo and video files generated in the tests (Pillow, PyAV)."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any


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


def exif_bytes(*, gps: tuple[float, float] | None = None, orientation: int | None = None) -> bytes:
    """An EXIF block with GPS, a time, the camera make and optionally an orientation."""
    from PIL import Image

    exif = Image.Exif()
    exif.load(_gps_exif(*(gps or (10.7769, 106.7009))))
    if not gps:
        del exif[0x8825]
    if orientation:
        exif[0x0112] = orientation
    return exif.tobytes()


def image(fmt: str, w: int = 640, h: int = 480, *, exif: bytes | None = None, mode: str = "RGB") -> bytes:
    """A gradient image in any Pillow (or pillow-heif) format, optionally carrying EXIF."""
    import numpy as np
    from PIL import Image

    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x * 255 // max(w, 1), y * 255 // max(h, 1), np.full_like(x, 128)], axis=-1)
    im = Image.fromarray(arr.astype(np.uint8), "RGB").convert(mode)
    buf = io.BytesIO()
    im.save(buf, fmt, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def mp4(seconds: float = 1.0, *, w: int = 160, h: int = 120, fps: int = 10) -> bytes:
    """A short H.264 clip in MP4, made with PyAV."""
    return clip(seconds, w=w, h=h, fps=fps)


def clip(
    seconds: float = 1.0,
    *,
    fmt: str = "mp4",
    codec: str = "libx264",
    w: int = 160,
    h: int = 120,
    fps: int = 10,
    audio: str | None = None,
    metadata: dict[str, str] | None = None,
) -> bytes:
    """A clip in any container and codec PyAV writes, with optional audio and container metadata."""
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        out.metadata.update(metadata or {})
        stream: Any = out.add_stream(codec, rate=fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        amr = bool(audio and audio.startswith("libopencore"))
        sound: Any = out.add_stream(audio, rate=8000 if amr else 44100) if audio else None
        if sound is not None:
            sound.layout = "mono"
            if amr:
                sound.bit_rate = 12200  # one of AMR-NB's fixed modes
        for i in range(max(1, int(seconds * fps))):
            arr = np.full((h, w, 3), (i * 10) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                out.mux(packet)
        if sound is not None:
            rate = sound.codec_context.sample_rate
            n = sound.codec_context.frame_size or 1024
            for k in range(int(seconds * rate / n)):
                samples = np.zeros((1, n), dtype=np.float32 if audio == "aac" else np.int16)
                frame = av.AudioFrame.from_ndarray(
                    samples, format="fltp" if audio == "aac" else "s16", layout="mono"
                )
                frame.sample_rate, frame.pts = rate, k * n
                for packet in sound.encode(frame):
                    out.mux(packet)
            for packet in sound.encode():
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
