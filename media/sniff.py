"""The real type of a file, from its first bytes (never the client's word)."""

from __future__ import annotations

PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/3gpp"})
# what a client may declare, mapped to the sniffed type it must turn out to be
DECLARED = {
    "image/jpeg": "image/jpeg",
    "image/jpg": "image/jpeg",
    "image/png": "image/png",
    "image/webp": "image/webp",
    "image/heic": "image/heic",
    "image/heif": "image/heic",
    "video/mp4": "video/mp4",
    "video/quicktime": "video/quicktime",
    "video/3gpp": "video/3gpp",
}
HEAD_BYTES = 64  # enough for every signature below

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"dash",
    b"MSNV",
}


def sniff(head: bytes) -> str | None:
    """The content type the bytes really are, or None for anything we do not accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(len(head), int.from_bytes(head[:4], "big")), 4)}
        if brand in _HEIF_BRANDS:
            return "image/heic"
        if brand == b"qt  ":
            return "video/quicktime"
        if brand.startswith(b"3g"):
            return "video/3gpp"
        if brand in _MP4_BRANDS or compatible & _MP4_BRANDS:
            return "video/mp4"
    return None


def kind_of(content_type: str) -> str | None:
    """'photo' or 'video' for an accepted (sniffed) type."""
    if content_type in PHOTO_TYPES:
        return "photo"
    if content_type in VIDEO_TYPES:
        return "video"
    return None
