"""What the public renditions hide, and photos seen before on another report.

- `set_blur_boxes`: a moderator's boxes replace the stored ones and the worker is asked to make the
  public renditions again (`media.jobs.rebuild_due`); until it has, the public sees none of them.
- `record_matches`: after processing, pairs the photo with every other one whose perceptual hash is
  within `MAX_PHASH_DISTANCE` bits (`media_matches`).
- `same_as`: for staff, the codes of the other reports each of a report's photos was seen on.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from media import sql
from media.config import MediaError
from media.models import Media
from media.process import STAFF_RENDITIONS

# Out of 64 bits. The same picture re-encoded, resized or lightly cropped by a phone stays within a
# few bits; different photos of one street corner are usually 20 or more apart (bench/blur.py).
MAX_PHASH_DISTANCE = 6
MAX_BOXES = 50
MODERATOR = "moderator"


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def _invalid(message: str, message_vi: str, details: Any = None) -> MediaError:
    return MediaError("invalid_blur_boxes", message, message_vi, details, status=422)


def checked_boxes(raw: Sequence[Sequence[float]]) -> list[list[float]]:
    """Boxes `[x, y, w, h]` in fractions of the picture, each inside it and not empty."""
    if len(raw) > MAX_BOXES:
        raise _invalid(f"At most {MAX_BOXES} boxes.", f"Tối đa {MAX_BOXES} vùng che.", {"max": MAX_BOXES})
    out = []
    for i, box in enumerate(raw):
        ok = len(box) == 4 and all(isinstance(v, int | float) and math.isfinite(v) for v in box)
        if ok:
            x, y, w, h = (float(v) for v in box)
            eps = 1e-6  # a box drawn to the very edge, after rounding on the client
            ok = x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= 1 + eps and y + h <= 1 + eps
        if not ok:
            raise _invalid(
                "Each box is [x, y, w, h]: fractions of the picture (0 to 1), inside it, not empty.",
                "Mỗi vùng che là [x, y, w, h]: tỉ lệ của ảnh (từ 0 đến 1), nằm trong ảnh, không rỗng.",
                {"index": i, "box": list(box)},
            )
        out.append([round(x, 5), round(y, 5), round(min(w, 1 - x), 5), round(min(h, 1 - y), 5)])
    return out


def blurrable(m: Media) -> bool:
    """Ready, with a staff copy to make the public renditions from (or a legacy public one)."""
    names = set(m.renditions or {})
    return m.status == "ready" and bool(names & (set(STAFF_RENDITIONS) | set(STAFF_RENDITIONS.values())))


async def set_blur_boxes(
    session: AsyncSession, m: Media, boxes: Sequence[Sequence[float]]
) -> list[dict[str, Any]]:
    """Replace what `m`'s public renditions hide and queue their rebuild, in the caller's transaction
    (it does not commit). A box equal to a stored one keeps its source (face, plate); the others are
    the moderator's. Returns the boxes as stored."""
    if not blurrable(m):
        raise MediaError(
            "media_not_ready",
            "Only a processed photo or video can have its blur boxes changed.",
            "Chỉ có thể sửa vùng che của ảnh hoặc video đã xử lý xong.",
            {"status": m.status},
            status=409,
        )
    before = {tuple(b["box"]): b["source"] for b in (m.blur_boxes or [])}
    stored = [{"box": b, "source": before.get(tuple(b), MODERATOR)} for b in checked_boxes(boxes)]
    await session.execute(sql.SET_BLUR_BOXES, {"boxes": _json(stored), "id": m.id})
    m.blur_boxes = stored
    return stored


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


async def record_matches(session: AsyncSession, media_id: uuid.UUID, phash: int | None) -> None:
    """Pair the photo with every near one. Run after its hash is committed: of two copies processed
    at once, the later to commit then sees the other."""
    await session.execute(sql.FORGET_MATCHES, {"id": media_id})
    if phash is not None:
        await session.execute(sql.MATCH, {"id": media_id, "hash": phash, "max": MAX_PHASH_DISTANCE})


async def same_as(session: AsyncSession, media_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """For each photo, the codes of the other reports on which the same picture was seen."""
    if not media_ids:
        return {}
    out: dict[uuid.UUID, list[str]] = {}
    for row in await session.execute(sql.SAME_AS, {"ids": list(media_ids)}):
        codes = out.setdefault(row.mine, [])
        if row.code not in codes:
            codes.append(row.code)
    return out


__all__ = [
    "MAX_PHASH_DISTANCE",
    "blurrable",
    "checked_boxes",
    "hamming",
    "record_matches",
    "same_as",
    "set_blur_boxes",
]
