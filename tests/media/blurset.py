"""A small labelled image set for face and plate blurring, built here (Pillow, numpy; seeded).

Faces come from the three public-domain/CC0 portraits in `tests/media/data/` (see its README), as they
are and placed in drawn street scenes at several sizes, mirrored, turned and darkened. Plates are drawn:
Vietnamese one-line car plates (`51F-123.45`), two-line plates and small motorbike plates, white,
yellow (commercial) and blue (state), straight, skewed and turned, on a drawn car in a drawn street.
A few scenes hold neither (one has a sign with plate-like lettering) to count false boxes.

Each `Sample` has its picture and its labelled boxes in pixels of that picture. `covered` says which
labelled boxes a set of blur boxes hides; `false_boxes` which blur boxes hide no labelled one.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

DATA = Path(__file__).resolve().parent / "data"
W, H = 1280, 960  # a phone photo once reduced to the largest rendition

# hand-labelled faces (brow or hairline to chin, ear to ear), in the files' pixels: x, y, w, h
FACES = {
    "hopper.jpg": (158, 138, 214, 197),
    "astronaut.jpg": (182, 72, 92, 110),
    "camera.jpg": (178, 105, 78, 90),  # in profile
}
PX = tuple[float, float, float, float]


@dataclass
class Sample:
    name: str
    image: Image.Image
    faces: list[PX] = field(default_factory=list)
    plates: list[PX] = field(default_factory=list)

    @property
    def labelled(self) -> list[tuple[str, PX]]:
        return [("face", b) for b in self.faces] + [("plate", b) for b in self.plates]

    def jpeg(self, quality: int = 90) -> bytes:
        buf = io.BytesIO()
        self.image.convert("RGB").save(buf, "JPEG", quality=quality)
        return buf.getvalue()

    def fractions(self, box: PX) -> list[float]:
        x, y, w, h = box
        return [x / self.image.width, y / self.image.height, w / self.image.width, h / self.image.height]


def _area(b: Sequence[float]) -> float:
    return max(0.0, b[2]) * max(0.0, b[3])


def _hidden_share(label: Sequence[float], blurs: Sequence[Sequence[float]], step: int = 24) -> float:
    """The share of the labelled box (fractions) inside the union of blur boxes, on a sample grid."""
    x, y, w, h = label
    inside = 0
    for i in range(step):
        for j in range(step):
            px, py = x + (i + 0.5) * w / step, y + (j + 0.5) * h / step
            if any(b[0] <= px <= b[0] + b[2] and b[1] <= py <= b[1] + b[3] for b in blurs):
                inside += 1
    return inside / (step * step)


def covered(sample: Sample, blurs: Sequence[Sequence[float]], share: float = 0.8) -> list[bool]:
    """Per labelled box (faces then plates): is at least `share` of it hidden by the blur boxes?"""
    return [_hidden_share(sample.fractions(b), blurs) >= share for _, b in sample.labelled]


def false_boxes(sample: Sample, blurs: Sequence[Sequence[float]]) -> int:
    """Blur boxes that overlap no labelled box by a quarter of the smaller of the two."""
    labels = [sample.fractions(b) for _, b in sample.labelled]

    def hits(b: Sequence[float]) -> bool:
        for lab in labels:
            w = min(b[0] + b[2], lab[0] + lab[2]) - max(b[0], lab[0])
            h = min(b[1] + b[3], lab[1] + lab[3]) - max(b[1], lab[1])
            if w > 0 and h > 0 and w * h >= 0.25 * min(_area(b), _area(lab)):
                return True
        return False

    return sum(1 for b in blurs if not hits(b))


# --- drawing -------------------------------------------------------------------------------------


def street(seed: int, *, sign: bool = False) -> Image.Image:
    """A drawn street: sky, buildings with windows, a road, a little noise; seeded."""
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (W, H), (150, 180, 210))
    d = ImageDraw.Draw(im)
    x = 0
    while x < W:
        bw = int(rng.integers(120, 260))
        top = int(rng.integers(80, 380))
        colour = tuple(int(c) for c in rng.integers(90, 220, 3))
        d.rectangle([x, top, x + bw, 640], fill=colour)
        for wx in range(x + 15, x + bw - 30, 45):
            for wy in range(top + 20, 600, 60):
                d.rectangle([wx, wy, wx + 22, wy + 30], fill=(60, 70, 90))
        x += bw + int(rng.integers(0, 20))
    d.rectangle([0, 640, W, H], fill=(95, 95, 100))
    for lx in range(40, W, 220):
        d.rectangle([lx, 790, lx + 110, 800], fill=(230, 230, 230))
    if sign:  # a shop sign with plate-like lettering: a classic false plate
        d.rectangle([420, 300, 860, 390], fill=(250, 250, 245), outline=(20, 20, 20), width=5)
        d.text((445, 318), "CAM DO XE 7-19H", fill=(15, 15, 15), font=_font(52))
    noise = rng.normal(0, 6, (H, W, 3))
    arr = np.clip(np.asarray(im, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def plate(
    text: str,
    width: int,
    *,
    lines: int = 1,
    square: bool = False,
    bg: tuple[int, int, int] = (240, 240, 235),
    ink: tuple[int, int, int] = (15, 15, 15),
) -> Image.Image:
    """A Vietnamese plate: one line 520×110 mm, two lines 330×165 mm, motorbike 190×140 mm."""
    ratio = 140 / 190 if square else (110 / 520 if lines == 1 else 165 / 330)
    height = max(10, round(width * ratio))
    im = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(im)
    d.rectangle([1, 1, width - 2, height - 2], outline=ink, width=max(2, width // 70))
    rows = [text] if lines == 1 else text.split(" ", 1)
    size = round(height * (0.72 if lines == 1 else 0.36))
    font = _font(size)
    for i, row in enumerate(rows):
        left, top, right, bottom = d.textbbox((0, 0), row, font=font)
        tw, th = right - left, bottom - top
        y = (height - th) / 2 if lines == 1 else height * (0.1 + 0.46 * i)
        d.text(((width - tw) / 2 - left, y - top), row, fill=ink, font=font)
    return im


def _car(scene: Image.Image, at: tuple[int, int], plate_im: Image.Image, colour: tuple[int, int, int]) -> PX:
    """A car's rear drawn around `plate_im`, the plate pasted at `at` (its top left); the plate box."""
    d = ImageDraw.Draw(scene)
    pw, ph = plate_im.size
    cx, cy = at[0] + pw / 2, at[1] + ph / 2
    bw, bh = pw * 3.2, pw * 1.6
    d.rounded_rectangle(
        [cx - bw / 2, cy - bh * 0.7, cx + bw / 2, cy + bh * 0.3], radius=int(pw * 0.2), fill=colour
    )
    d.rectangle([cx - bw * 0.4, cy - bh * 0.65, cx + bw * 0.4, cy - bh * 0.35], fill=(40, 50, 60))  # glass
    for side in (-1, 1):
        lx = cx + side * bw * 0.38
        d.rectangle([lx - pw * 0.18, cy - ph, lx + pw * 0.18, cy - ph * 0.2], fill=(200, 30, 30))  # lamps
    scene.paste(plate_im, at, plate_im if plate_im.mode == "RGBA" else None)
    return (at[0], at[1], pw, ph)


def _paste_rotated(
    scene: Image.Image, im: Image.Image, at: tuple[int, int], degrees: float
) -> tuple[int, int, int, int]:
    """Paste `im` turned by `degrees` at `at`; the bounding box of where it landed."""
    turned = im.convert("RGBA").rotate(degrees, expand=True, resample=Image.Resampling.BICUBIC)
    scene.paste(turned, at, turned)
    return (at[0], at[1], turned.width, turned.height)


def _turn_box(box: PX, size: tuple[int, int], degrees: float) -> PX:
    """Where `box` of a picture of `size` lands once the picture is turned with expand=True."""
    w, h = size
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    nw = abs(w * cos) + abs(h * sin)
    nh = abs(w * sin) + abs(h * cos)
    x, y, bw, bh = box
    pts = []
    for px, py in ((x, y), (x + bw, y), (x, y + bh), (x + bw, y + bh)):
        dx, dy = px - w / 2, py - h / 2
        # PIL turns counter-clockwise on screen (y down)
        pts.append((dx * cos + dy * sin + nw / 2, -dx * sin + dy * cos + nh / 2))
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _portrait(name: str) -> Image.Image:
    with Image.open(DATA / name) as im:
        return im.convert("RGB")


def _placed(
    name: str, face_w: int, seed: int, *, mirror: bool = False, degrees: float = 0.0, dark: bool = False
) -> Sample:
    """The portrait scaled so its face is `face_w` pixels wide, standing in a street scene."""
    src = _portrait(name)
    fx, fy, fw, fh = FACES[name]
    if mirror:
        src = src.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        fx = src.width - fx - fw
    k = face_w / fw
    src = src.resize((round(src.width * k), round(src.height * k)), Image.Resampling.LANCZOS)
    face: PX = (fx * k, fy * k, fw * k, fh * k)
    scene = street(seed)
    at = (int(W * 0.55 - src.width / 2), max(0, int(H * 0.45 - src.height / 2)))
    if degrees:
        face = _turn_box(face, src.size, degrees)
        _paste_rotated(scene, src, at, degrees)
    else:
        scene.paste(src, at)
    if dark:  # backlit, late afternoon
        scene = ImageEnhance.Brightness(scene).enhance(0.45)
    tag = "mirrored" if mirror else f"turned{degrees:.0f}" if degrees else "dark" if dark else "placed"
    return Sample(
        f"{name.split('.')[0]}-{tag}-{face_w}px",
        scene,
        faces=[(at[0] + face[0], at[1] + face[1], face[2], face[3])],
    )


def _plate_scene(name: str, seed: int, plates: list[tuple[Image.Image, tuple[int, int], float]]) -> Sample:
    scene = street(seed)
    rng = np.random.default_rng(seed)
    boxes: list[PX] = []
    for im, at, degrees in plates:
        r, g, b = (int(c) for c in rng.integers(30, 230, 3))
        colour = (r, g, b)
        if degrees:
            blank = Image.new("RGB", im.size, (0, 0, 0))
            box = _car(scene, at, blank, colour)  # the car around where the plate goes
            boxes.append(_paste_rotated(scene, im, (int(box[0]), int(box[1])), degrees))
        else:
            boxes.append(_car(scene, at, im, colour))
    return Sample(name, scene, plates=boxes)


def _skewed(im: Image.Image, shear: float) -> Image.Image:
    """The plate seen from one side: a horizontal squeeze and a vertical shear."""
    w, h = im.size
    nw = round(w * 0.8)
    return im.convert("RGBA").transform(
        (nw, h + round(shear * w)),
        Image.Transform.AFFINE,
        (w / nw, 0, 0, -shear * w / nw, 1, 0),
        resample=Image.Resampling.BICUBIC,
        fillcolor=(0, 0, 0, 0),
    )


def build() -> list[Sample]:
    samples: list[Sample] = []
    for i, name in enumerate(FACES):
        portrait = _portrait(name)
        samples.append(Sample(f"{name.split('.')[0]}-as-is", portrait, faces=[FACES[name]]))
        samples.append(_placed(name, 150, 10 + i))
        samples.append(_placed(name, 60, 20 + i))
        samples.append(_placed(name, 110, 30 + i, mirror=True))
        samples.append(_placed(name, 130, 40 + i, degrees=25))
        samples.append(_placed(name, 130, 50 + i, dark=True))
    yellow, blue = (245, 200, 40), (25, 60, 150)
    for n, width in enumerate((90, 140, 200, 300)):
        samples.append(
            _plate_scene(f"plate-1line-{width}px", 100 + n, [(plate("51F-123.45", width), (500, 620), 0)])
        )
    for n, width in enumerate((100, 160, 240)):
        samples.append(
            _plate_scene(
                f"plate-2lines-{width}px", 110 + n, [(plate("51F 123.45", width, lines=2), (520, 600), 0)]
            )
        )
    for n, width in enumerate((80, 130)):
        samples.append(
            _plate_scene(
                f"plate-motorbike-{width}px",
                120 + n,
                [(plate("59-X1 234.56", width, lines=2, square=True), (560, 640), 0)],
            )
        )
    samples.append(
        _plate_scene("plate-yellow-180px", 130, [(plate("51D-456.78", 180, bg=yellow), (480, 620), 0)])
    )
    samples.append(
        _plate_scene(
            "plate-blue-180px",
            131,
            [(plate("80B-123.45", 180, bg=blue, ink=(245, 245, 245)), (480, 620), 0)],
        )
    )
    samples.append(
        _plate_scene("plate-skewed-220px", 132, [(_skewed(plate("30A-888.99", 220), 0.18), (480, 600), 0)])
    )
    samples.append(_plate_scene("plate-turned-220px", 133, [(plate("30A-888.99", 220), (480, 600), 10)]))
    samples.append(
        _plate_scene(
            "plate-two-cars",
            134,
            [(plate("29H-001.23", 150), (200, 650), 0), (plate("43A-765.43", 170), (850, 600), 0)],
        )
    )
    samples.append(Sample("street-empty", street(200)))
    samples.append(Sample("street-sign", street(201, sign=True)))
    samples.append(Sample("street-empty-2", street(202)))
    return samples


__all__ = ["FACES", "Sample", "build", "covered", "false_boxes", "plate", "street"]
