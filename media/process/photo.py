"""Photos: decode with Pillow (HEIC through pillow-heif), read GPS and time, write metadata-free WebP renditions.

Runs inside the sandboxed child process (`media.process.child`). Every refusal is a `Refused` with
a machine reason and an English message naming the limit or the fault.

The public renditions ("large", "thumb") have faces and plates hidden (`media.process.blur`); staff
get "large_original", the same picture unblurred, which is also what a moderator's new boxes are
applied to later (`rebuild_photo`): the uploaded original is not kept.
"""

from __future__ import annotations

import io
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageCms, ImageOps

from media.process import Limits, Refused, Rendition, blur
from media.process.blurhash import encode as blurhash
from media.process.polyglot import foreign_payload

SIZES = (("large", 1280), ("thumb", 320))
STAFF = "large_original"  # unblurred, the size of "large"
FORMATS = {"JPEG", "PNG", "WEBP", "HEIF"}
QUALITY = 80

_EXIF_IFD, _GPS_IFD, _ORIENTATION = 0x8769, 0x8825, 0x0112
_DATETIME, _DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x0132, 0x9003, 0x9011
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def process_photo(src: Path, out_dir: Path, limits: Limits) -> tuple[list[Rendition], dict[str, Any]]:
    import pillow_heif

    pillow_heif.register_heif_opener()
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    # Pillow only warns between 1x and 2x the limit; a warning must refuse the file too.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(src) as opened:
            return _process(opened, src, out_dir)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Refused(
            "decompression_bomb",
            f"The image has too many pixels (limit {limits.max_pixels:,}): {exc}",
            limit_px=f"{limits.max_pixels:,}",
        ) from exc
    except Image.UnidentifiedImageError as exc:
        raise Refused("unreadable", "The file is not an image we can read.") from exc
    except OSError as exc:
        if "truncated" in str(exc) or "broken data stream" in str(exc):
            raise Refused(
                "truncated", "The image file is truncated (the upload may have been cut off)."
            ) from exc
        raise Refused("unreadable", f"The image could not be decoded: {exc}") from exc
    except (ValueError, SyntaxError, EOFError) as exc:  # Pillow's plugins raise these on corrupt headers
        raise Refused("unreadable", f"The image could not be decoded: {exc}") from exc


def _process(im: Image.Image, src: Path, out_dir: Path) -> tuple[list[Rendition], dict[str, Any]]:
    if im.format not in FORMATS:
        raise Refused("unsupported_format", f"{im.format} images are not accepted (JPEG, PNG, WebP, HEIC).")
    foreign = foreign_payload(src, im.format)
    if foreign:
        raise Refused("polyglot", f"The image carries another file inside it ({foreign}); it is refused.")
    exif = im.getexif()
    facts: dict[str, Any] = {"format": im.format.lower(), "gps": _gps(exif), "taken_at": _taken_at(exif)}
    width, height = im.size
    if exif.get(_ORIENTATION) in (5, 6, 7, 8):  # stored sideways: the resident saw it turned
        width, height = height, width
    facts.update(width=width, height=height)
    if im.format == "JPEG":
        im.draft("RGB", (SIZES[0][1], SIZES[0][1]))  # decode at a reduced scale: far less time and memory
    im.load()  # the full decode: truncated and corrupt data fail here
    work = _shrink(im)
    ImageOps.exif_transpose(work, in_place=True)
    current = _to_srgb(work)
    current.thumbnail((SIZES[0][1], SIZES[0][1]), Image.Resampling.LANCZOS)
    staff = _save(current, STAFF, out_dir)
    found = blur.detect(current)
    facts["blur_boxes"] = blur.boxes_of(found)
    facts["phash"] = blur.phash(current)
    renditions, facts["blurhash"] = public_renditions(current, [f.box for f in found], out_dir)
    return [staff, *renditions], facts


def public_renditions(
    picture: Image.Image, boxes: list[list[float]], out_dir: Path
) -> tuple[list[Rendition], str]:
    """The "large" and "thumb" renditions with `boxes` hidden, and the blurhash (made from the hidden
    picture too)."""
    current = blur.apply(picture, boxes)
    renditions = []
    for name, px in SIZES:  # in place, large first: each rendition is made from the one before
        current.thumbnail((px, px), Image.Resampling.LANCZOS)
        renditions.append(_save(current, name, out_dir))
    small = current.copy()
    small.thumbnail((32, 32))
    return renditions, blurhash(np.asarray(small))


def _save(im: Image.Image, name: str, out_dir: Path) -> Rendition:
    path = out_dir / f"{name}.webp"
    im.save(path, "WEBP", quality=QUALITY, method=4)  # no exif=/xmp=/icc: nothing carried over
    return Rendition(name, path, "image/webp", path.stat().st_size, *im.size)


def rebuild_photo(
    src: Path, out_dir: Path, boxes: list[list[float]] | None
) -> tuple[list[Rendition], dict[str, Any]]:
    """The public renditions again from the staff copy at `src`, hiding `boxes` (None: detect them,
    for photos processed before blurring existed)."""
    with Image.open(src) as opened:
        picture = opened.convert("RGB")
    facts: dict[str, Any] = {"phash": blur.phash(picture)}
    if boxes is None:
        found = blur.detect(picture)
        facts["blur_boxes"] = blur.boxes_of(found)
        boxes = [f.box for f in found]
    renditions, facts["blurhash"] = public_renditions(picture, boxes, out_dir)
    return renditions, facts


def _shrink(im: Image.Image) -> Image.Image:
    """A cheap box-filter reduction to about twice the largest rendition, freeing the full decode."""
    factor = max(im.size) // (2 * SIZES[0][1])
    if factor < 2:
        return im
    small = im.reduce(factor)
    small.info = im.info  # keep the ICC profile and orientation for what follows
    small.getexif().update(im.getexif())
    im.close()  # the full-size pixels are the largest thing in memory
    return small


def _to_srgb(im: Image.Image) -> Image.Image:
    """RGB in sRGB: phone photos in Display P3 would look dull once their profile is dropped."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat
    elif im.mode != "RGB":
        im = im.convert("RGB")
    icc = im.info.get("icc_profile")
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(im, profile, _SRGB, outputMode="RGB")
            if converted is not None:
                im = converted
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: keep the pixels as they are
    return im


def _gps(exif: Image.Exif) -> list[float] | None:
    """[lat, lon] from the EXIF GPS block, or None when absent or nonsense."""
    try:
        g = exif.get_ifd(_GPS_IFD)
        if not g or 2 not in g or 4 not in g:
            return None

        def degrees(v: Any) -> float:
            d, m, s = (float(x) for x in v)
            return d + m / 60 + s / 3600

        lat, lon = degrees(g[2]), degrees(g[4])
        if str(g.get(1, "N")).upper().startswith("S"):
            lat = -lat
        if str(g.get(3, "E")).upper().startswith("W"):
            lon = -lon
    except (TypeError, ValueError, ZeroDivisionError, KeyError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return [round(lat, 7), round(lon, 7)]


def _taken_at(exif: Image.Exif) -> str | None:
    """When the photo was taken (EXIF DateTimeOriginal, else DateTime) as ISO 8601, or None."""
    sub = exif.get_ifd(_EXIF_IFD)
    raw = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        taken = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = sub.get(_OFFSET_ORIGINAL)
    if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
        return taken.isoformat() + offset.strip("\x00 ")
    return taken.isoformat()
