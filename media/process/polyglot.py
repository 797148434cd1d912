"""Polyglots: an image that is also a ZIP, a script or a program (data hidden after the image or in a comment).

Re-encoding already drops such payloads from what we serve; refusing them says clearly that the
upload was not an honest photo. Only bytes the decoder ignores are searched (what follows the
image's own end, and JPEG comments), so compressed pixels never cause a false alarm. Data after
the end that phones write themselves (a second JPEG for Ultra HDR / MPF, Samsung trailers) passes.
"""

from __future__ import annotations

from pathlib import Path

_ANYWHERE = {
    b"pk\x03\x04": "a ZIP archive",
    b"%pdf-": "a PDF document",
    b"<?php": "a PHP script",
    b"<script": "a script",
    b"<html": "an HTML page",
    b"<svg": "an SVG document",
    b"\x7felf": "an executable",
    b"rar!\x1a\x07": "a RAR archive",
    b"7z\xbc\xaf\x27\x1c": "a 7z archive",
}
_AT_START = {b"mz": "an executable", b"#!": "a script"}


def foreign_payload(path: Path, fmt: str) -> str | None:
    """What kind of foreign file the image carries, or None when it is just an image."""
    data = path.read_bytes()
    end, comments = _image_end(data, fmt)
    hidden = [data[end:], *comments]
    for chunk in hidden:
        lowered = chunk.lower()
        stripped = lowered.lstrip(b"\x00 \r\n\t")
        for sig, name in _AT_START.items():
            if stripped.startswith(sig):
                return name
        for sig, name in _ANYWHERE.items():
            if sig in lowered:
                return name
    return None


def _image_end(data: bytes, fmt: str) -> tuple[int, list[bytes]]:
    """Offset just past the image's own structure, and the contents of any comment segments."""
    if fmt == "JPEG":
        end, comments = _jpeg_end(data, 0)
        # phones append further JPEGs (MPF: Ultra HDR gain maps, depth maps): skip over each in turn
        while data.startswith(b"\xff\xd8\xff", end):
            end, more = _jpeg_end(data, end)
            comments += more
        return end, comments
    if fmt == "PNG":
        return _png_end(data), []
    if fmt == "WEBP":
        size = int.from_bytes(data[4:8], "little")
        return min(len(data), 8 + size + (size & 1)), []
    if fmt == "HEIF":
        return _bmff_end(data), []
    return len(data), []


def _jpeg_end(data: bytes, start: int) -> tuple[int, list[bytes]]:
    comments: list[bytes] = []
    pos, n = start + 2, len(data)  # after SOI
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return n, comments  # not where a marker should be: leave it to the decoder
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI
            return pos + 2, comments
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xFE:
            comments.append(data[pos + 4 : pos + 2 + length])
        pos += 2 + length
        if marker == 0xDA:  # start of scan: skip the entropy-coded data to the next real marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    return n, comments
                nxt = data[pos + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    pos += 1 if nxt == 0xFF else 2
                    continue
                break
    return n, comments


def _png_end(data: bytes) -> int:
    pos, n = 8, len(data)
    while pos + 8 <= n:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return min(pos, n)
    return n


def _bmff_end(data: bytes) -> int:
    pos, n = 0, len(data)
    while pos + 8 <= n:
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1 and pos + 16 <= n:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            return n  # the last box runs to the end of the file
        kind = data[pos + 4 : pos + 8]
        if size < 8 or pos + size > n or not all(0x20 <= b <= 0x7E for b in kind):
            return pos  # not a box: what follows is not part of the image
        pos += size
    return min(pos, n)
