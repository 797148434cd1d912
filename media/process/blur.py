"""Faces and licence plates: found with OpenCV's Haar cascades, hidden by pixelation and a blur.

Runs inside the sandboxed decoder child. A box is `[x, y, w, h]` in fractions (0..1) of the picture
as shown (after EXIF orientation), so one box list applies to every rendition size, and a box a
moderator draws on any rendition means the same region. Stored boxes already include the margin:
what is stored is what is hidden.

The cascades ship inside opencv-python-headless 4.x (`cv2.data.haarcascades`); nothing is fetched.
Haar is a weak baseline: frontal and profile faces that are upright and not too small, and plates
seen from the front. Moderators add what it misses (`PUT /v1/media/{id}/blur`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFilter

Box = list[float]  # [x, y, w, h], fractions of the picture


@dataclass(frozen=True)
class Cascade:
    label: str  # "face" | "plate"
    file: str
    min_neighbors: int
    min_width: float  # the smallest box searched for, as a fraction of the picture's shorter side
    aspect: float  # the cascade's window, width / height
    scale_factor: float  # between searched sizes: smaller finds more, at more time
    mirror: bool = False  # also search the mirrored picture (the profile cascade sees one side only)


# Tuned on the labelled set (bench/blur.py). A coarser step between sizes (1.2) loses no face there and
# drops the false ones; plates need a fine step (1.05) or the narrow one-line plates fall between two
# sizes. `haarcascade_license_plate_rus_16stages.xml` found none of the set's plates and only added
# false boxes, so it is not used.
CASCADES = (
    Cascade("face", "haarcascade_frontalface_default.xml", 5, 0.03, 1.0, 1.2),
    Cascade("face", "haarcascade_profileface.xml", 5, 0.03, 1.0, 1.2, mirror=True),
    Cascade("plate", "haarcascade_russian_plate_number.xml", 6, 0.06, 3.0, 1.05),
)
# (left/right, top/bottom) margins as fractions of the box: a face box stops at the brow and the
# chin (hair and ears identify too); a plate box fits one-line plates tightly, while Vietnamese
# two-line plates are taller than the cascade's window.
MARGINS = {"face": (0.2, 0.25), "plate": (0.12, 0.4)}
DETECT_PX = 1280  # detection runs on the largest public rendition: what the public could look at
BLOCKS = 8  # pixelation cells along a box's longer side: no face or plate survives 8 cells


@dataclass(frozen=True)
class Found:
    label: str
    box: Box  # with the margin, clipped to the picture


_loaded: dict[str, Any] = {}


def _classifier(name: str) -> Any:
    import cv2

    if name not in _loaded:
        classifier = cv2.CascadeClassifier(cv2.data.haarcascades + name)  # type: ignore[attr-defined]
        if classifier.empty():
            raise RuntimeError(f"OpenCV cascade {name} is missing (opencv-python-headless 4.x ships it)")
        _loaded[name] = classifier
    return _loaded[name]


def detect(im: Image.Image, cascades: Sequence[Cascade] = CASCADES) -> list[Found]:
    """Faces and plates in `im`, as boxes with their margins, overlapping ones merged."""
    import cv2
    import numpy as np

    cv2.setNumThreads(1)  # one decode per worker step, on a small shared machine: one core
    gray = im.convert("L")
    gray.thumbnail((DETECT_PX, DETECT_PX), Image.Resampling.BILINEAR)
    pixels = cv2.equalizeHist(np.asarray(gray))  # backlit and night photos: stretch the contrast
    height, width = pixels.shape
    short = min(width, height)
    found: list[Found] = []
    for c in cascades:
        min_w = max(20, round(c.min_width * short))
        min_size = (min_w, max(8, round(min_w / c.aspect)))
        views = [(pixels, False)] + ([(np.ascontiguousarray(pixels[:, ::-1]), True)] if c.mirror else [])
        for view, mirrored in views:
            hits = _classifier(c.file).detectMultiScale(
                view, scaleFactor=c.scale_factor, minNeighbors=c.min_neighbors, minSize=min_size
            )
            for x, y, w, h in hits if len(hits) else ():
                if mirrored:
                    x = width - x - w
                found.append(
                    Found(c.label, _with_margin(c.label, x / width, y / height, w / width, h / height))
                )
    return merge(found)


def _with_margin(label: str, x: float, y: float, w: float, h: float) -> Box:
    mx, my = MARGINS[label]
    return clip([x - mx * w, y - my * h, w * (1 + 2 * mx), h * (1 + 2 * my)])


def clip(box: Sequence[float]) -> Box:
    x, y, w, h = (float(v) for v in box)
    left, top = max(0.0, x), max(0.0, y)
    right, bottom = min(1.0, x + w), min(1.0, y + h)
    return [round(left, 5), round(top, 5), round(max(0.0, right - left), 5), round(max(0.0, bottom - top), 5)]


def _iou(a: Box, b: Box) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / max(1e-12, a[2] * a[3] + b[2] * b[3] - inter)


def merge(found: list[Found], threshold: float = 0.3) -> list[Found]:
    """Boxes of one label around the same thing (two cascades, the mirrored pass) become their union;
    a large box merely containing a small one is kept apart, or one stray hit would swallow a scene."""
    out: list[Found] = []
    for f in found:
        for i, o in enumerate(out):
            if o.label == f.label and _iou(o.box, f.box) >= threshold:
                left, top = min(o.box[0], f.box[0]), min(o.box[1], f.box[1])
                right = max(o.box[0] + o.box[2], f.box[0] + f.box[2])
                bottom = max(o.box[1] + o.box[3], f.box[1] + f.box[3])
                out[i] = Found(o.label, clip([left, top, right - left, bottom - top]))
                break
        else:
            out.append(f)
    return out


def apply(im: Image.Image, boxes: Sequence[Sequence[float]]) -> Image.Image:
    """A copy of `im` with each box pixelated to `BLOCKS` cells and blurred (nothing to undo)."""
    out = im.copy()
    width, height = im.size
    for box in boxes:
        x, y, w, h = clip(box)
        left, top = math.floor(x * width), math.floor(y * height)
        right, bottom = math.ceil((x + w) * width), math.ceil((y + h) * height)
        if right - left < 1 or bottom - top < 1:
            continue
        region = out.crop((left, top, right, bottom))
        cell = max(1.0, max(region.size) / BLOCKS)
        small = (max(1, round(region.width / cell)), max(1, round(region.height / cell)))
        region = region.resize(small, Image.Resampling.BOX).resize(region.size, Image.Resampling.NEAREST)
        region = region.filter(ImageFilter.GaussianBlur(cell / 2))  # soften the cells' edges
        out.paste(region, (left, top))
    return out


def phash(im: Image.Image) -> int | None:
    """The 64-bit perceptual hash as a signed integer (a PostgreSQL bigint); None for a picture with
    nothing in it (a flat colour would match every other flat photo)."""
    import imagehash
    import numpy as np

    gray = im.convert("L").resize((32, 32), Image.Resampling.BOX)
    if float(np.asarray(gray, dtype=np.float32).std()) < 4.0:
        return None
    value = int(str(imagehash.phash(im)), 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def boxes_of(found: Sequence[Found]) -> list[dict[str, Any]]:
    return [{"box": f.box, "source": f.label} for f in found]


__all__ = ["CASCADES", "Cascade", "Found", "apply", "boxes_of", "clip", "detect", "merge", "phash"]
